using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>
/// Upstream's rules for ending the AR, checked after each step's token is picked and before it is appended, in
/// upstream's order; every backend asks this one function.
/// <list type="bullet">
/// <item>"eos": the sampled token is EOS, or (lifeiteng VALL-E only, not VALL-E X) the argmax is;</item>
/// <item>"length": more than <see cref="GenerationRequest.MaxFramesPerTextToken"/> frames per text token, counting
/// the BOS slot when the model prepends one (upstream's <c>len(y) - len(prompt) &gt; 16 * len(text)</c>);</item>
/// <item>"max-frames": the caller's own budget (<see cref="GenerationRequest.MaxFrames"/>).</item>
/// </list>
/// </summary>
internal static class ArStopRule
{
    /// <param name="generated">tokens appended so far (this step's not included).</param>
    /// <returns>the stop reason, or null to append <paramref name="token"/> and go on.</returns>
    public static string? Check(ModelConfig c, int token, int argmax, int generated, int textLength, int maxFrames)
    {
        bool vallex = c.Family == ModelFamily.VallEX;
        if (token == c.EosToken || (!vallex && argmax == c.EosToken)) return "eos";
        if (generated + (c.PrependBos ? 1 : 0) > GenerationRequest.MaxFramesPerTextToken * textLength) return "length";
        if (generated >= maxFrames) return "max-frames";
        return null;
    }
}
