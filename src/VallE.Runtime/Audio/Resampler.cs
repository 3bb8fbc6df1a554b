namespace VallE.Runtime.Audio;

/// <summary>
/// Band-limited sample-rate conversion by a Kaiser-windowed sinc, evaluated as a polyphase filter.
/// <para>Design (all relative to the Nyquist frequency of the lower of the two rates, f_N):</para>
/// <list type="bullet">
/// <item>passband to 0.9 f_N, flat to within 0.001 dB (the ripple of a 90 dB Kaiser design);</item>
/// <item>stopband from 1.0 f_N on, attenuated by at least 90 dB, so nothing above the output's Nyquist folds back
/// (downsampling) and no spectral images survive (upsampling);</item>
/// <item>cutoff (-6 dB) at 0.95 f_N; Kaiser beta and filter length from Kaiser's formulas for A = 90 dB and a
/// transition width of 0.1 f_N.</item>
/// </list>
/// For the ratio out/in = L/M in lowest terms the filter has L phases; each phase's taps are normalised to sum to 1
/// so that DC passes exactly. When L is large (odd rates like 24001 Hz) the table holds <see cref="MaxPhases"/>
/// phases and the taps between two table phases are interpolated linearly.
/// The signal is taken as zero outside its ends; the output has <c>ceil(n * out / in)</c> samples.
/// </summary>
public sealed class Resampler
{
    /// <summary>Stopband attenuation the filter is designed for, in dB.</summary>
    public const double AttenuationDb = 90;
    /// <summary>Passband edge as a fraction of the lower rate's Nyquist frequency.</summary>
    public const double PassbandEdge = 0.9;
    private const int MaxPhases = 1024;

    public int InputRate { get; }
    public int OutputRate { get; }

    private readonly long _up, _down;       // out/in = _up/_down in lowest terms
    private readonly int _phases;           // rows in the table (+1 guard row for interpolation)
    private readonly int _taps;             // taps per phase
    private readonly int _left;             // taps before the centre sample
    private readonly float[] _table;        // [_phases + 1, _taps]

    public Resampler(int inputRate, int outputRate)
    {
        if (inputRate <= 0 || outputRate <= 0) throw new ArgumentOutOfRangeException(nameof(inputRate), "sample rates must be positive");
        InputRate = inputRate;
        OutputRate = outputRate;
        long g = Gcd(inputRate, outputRate);
        _up = outputRate / g;
        _down = inputRate / g;
        if (_up == _down) { _table = []; return; }

        double lowNyquist = 0.5 * Math.Min(inputRate, outputRate);
        double cutoff = 0.5 * (PassbandEdge + 1.0) * lowNyquist / inputRate;       // cycles per input sample
        double transition = (1.0 - PassbandEdge) * lowNyquist / inputRate;          // cycles per input sample
        double beta = 0.1102 * (AttenuationDb - 8.7);
        // Kaiser: taps N = (A - 7.95) / (14.36 * dF); half of them on each side of the centre.
        double halfWidth = (AttenuationDb - 7.95) / (14.36 * transition) / 2;
        _left = (int)Math.Ceiling(halfWidth);
        _taps = 2 * _left + 1;
        _phases = (int)Math.Min(_up, MaxPhases);
        _table = new float[(_phases + 1) * _taps];
        double i0Beta = BesselI0(beta);
        var row = new double[_taps];
        for (int p = 0; p <= _phases; p++)
        {
            double frac = (double)p / _phases;    // output time lies frac input samples after the centre tap
            double sum = 0;
            for (int k = 0; k < _taps; k++)
            {
                double d = k - _left - frac;       // distance of this input sample from the output instant
                double r = d / halfWidth;
                double w = Math.Abs(r) >= 1 ? 0 : BesselI0(beta * Math.Sqrt(1 - r * r)) / i0Beta;
                double x = 2 * cutoff * d;
                double sinc = x == 0 ? 1 : Math.Sin(Math.PI * x) / (Math.PI * x);
                row[k] = 2 * cutoff * sinc * w;
                sum += row[k];
            }
            for (int k = 0; k < _taps; k++) _table[p * _taps + k] = (float)(row[k] / sum);
        }
    }

    /// <summary>Number of output samples for <paramref name="inputLength"/> input samples.</summary>
    public long OutputLength(long inputLength) => (inputLength * _up + _down - 1) / _down;

    /// <summary>Resamples a whole signal.</summary>
    public float[] Process(ReadOnlySpan<float> input)
    {
        if (_up == _down) return input.ToArray();
        long outLength = OutputLength(input.Length);
        if (outLength > Array.MaxLength) throw new InvalidInputException("resampled audio too long");
        var output = new float[outLength];
        for (long n = 0; n < outLength; n++)
        {
            // Output sample n sits at input time n * down / up = centre + frac.
            long num = n * _down;
            long centre = num / _up;
            long rem = num % _up;
            double phasePos = (double)rem * _phases / _up;
            int p = (int)phasePos;
            float a = (float)(phasePos - p);
            output[n] = a == 0
                ? Dot(input, centre - _left, _table.AsSpan(p * _taps, _taps))
                : (1 - a) * Dot(input, centre - _left, _table.AsSpan(p * _taps, _taps))
                  + a * Dot(input, centre - _left, _table.AsSpan((p + 1) * _taps, _taps));
        }
        return output;
    }

    /// <summary>Convenience: resample <paramref name="input"/> from <paramref name="inputRate"/> to <paramref name="outputRate"/>.</summary>
    public static float[] Resample(ReadOnlySpan<float> input, int inputRate, int outputRate) =>
        new Resampler(inputRate, outputRate).Process(input);

    private static float Dot(ReadOnlySpan<float> input, long start, ReadOnlySpan<float> taps)
    {
        // Clip the tap window to the signal: samples outside it are zero.
        int k0 = (int)Math.Max(0, -start);
        int k1 = (int)Math.Min(taps.Length, input.Length - start);
        if (k1 <= k0) return 0;
        return System.Numerics.Tensors.TensorPrimitives.Dot(input.Slice((int)(start + k0), k1 - k0), taps[k0..k1]);
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    /// <summary>Modified Bessel function of the first kind, order 0 (power series; converges fast for the betas used).</summary>
    private static double BesselI0(double x)
    {
        double sum = 1, term = 1, q = x * x / 4;
        for (int k = 1; k < 200; k++)
        {
            term *= q / ((double)k * k);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return sum;
    }
}
