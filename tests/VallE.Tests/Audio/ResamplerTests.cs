using VallE.Runtime.Audio;

namespace VallE.Tests.Audio;

/// <summary>
/// The resampler's frequency response, measured with pure tones: passband gain, stopband attenuation (aliasing
/// when downsampling) and image rejection (upsampling). Tones are fitted by least squares away from the ends.
/// </summary>
public class ResamplerTests
{
    private static float[] Tone(double freq, int rate, int n, double amplitude = 0.5)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(amplitude * Math.Sin(2 * Math.PI * freq * i / rate + 0.3));
        return x;
    }

    /// <summary>Least-squares fit of a sinusoid at <paramref name="freq"/> over the middle of the signal; returns its amplitude and the RMS of what is left.</summary>
    private static (double Amplitude, double ResidualRms) Fit(float[] y, double freq, int rate)
    {
        int start = y.Length / 5, end = y.Length - y.Length / 5;
        double scc = 0, sss = 0, scs = 0, syc = 0, sys = 0;
        for (int i = start; i < end; i++)
        {
            double c = Math.Cos(2 * Math.PI * freq * i / rate), s = Math.Sin(2 * Math.PI * freq * i / rate);
            scc += c * c; sss += s * s; scs += c * s; syc += y[i] * c; sys += y[i] * s;
        }
        double det = scc * sss - scs * scs;
        double a = (syc * sss - sys * scs) / det, b = (sys * scc - syc * scs) / det;
        double res = 0;
        for (int i = start; i < end; i++)
        {
            double c = Math.Cos(2 * Math.PI * freq * i / rate), s = Math.Sin(2 * Math.PI * freq * i / rate);
            double r = y[i] - a * c - b * s;
            res += r * r;
        }
        return (Math.Sqrt(a * a + b * b), Math.Sqrt(res / (end - start)));
    }

    private static double Rms(float[] y)
    {
        int start = y.Length / 5, end = y.Length - y.Length / 5;
        double sum = 0;
        for (int i = start; i < end; i++) sum += (double)y[i] * y[i];
        return Math.Sqrt(sum / (end - start));
    }

    private static double Db(double ratio) => 20 * Math.Log10(Math.Max(ratio, 1e-12));

    [TestCase(48000, 24000)]
    [TestCase(44100, 24000)]
    [TestCase(22050, 24000)]
    [TestCase(16000, 24000)]
    [TestCase(8000, 24000)]
    [TestCase(24001, 24000)]   // L = 24000 phases: the interpolated table
    [TestCase(24000, 16000)]
    public void PassbandIsFlatAndCleanUpToNinetyPercentOfNyquist(int inRate, int outRate)
    {
        double nyquist = 0.5 * Math.Min(inRate, outRate);
        var resampler = new Resampler(inRate, outRate);
        foreach (double fraction in new[] { 0.01, 0.1, 0.3, 0.5, 0.7, 0.85, 0.9 })
        {
            double f = fraction * nyquist;
            float[] y = resampler.Process(Tone(f, inRate, inRate / 2));
            var (amp, residual) = Fit(y, f, outRate);
            Assert.That(Db(amp / 0.5), Is.InRange(-0.01, 0.01), $"{inRate}->{outRate}: gain at {f:F0} Hz");
            // Whatever is not the tone (aliases, images, rounding) stays 80 dB down.
            Assert.That(Db(residual / 0.5), Is.LessThan(-80), $"{inRate}->{outRate}: residual at {f:F0} Hz");
        }
    }

    [TestCase(48000, 24000)]
    [TestCase(44100, 24000)]
    [TestCase(32000, 24000)]
    [TestCase(24000, 16000)]
    public void EverythingAboveTheOutputNyquistIsRemovedNotAliased(int inRate, int outRate)
    {
        double nyquist = 0.5 * outRate;
        var resampler = new Resampler(inRate, outRate);
        foreach (double fraction in new[] { 1.0, 1.02, 1.1, 1.3, 1.6, 1.95 })
        {
            double f = fraction * nyquist;
            if (f >= 0.5 * inRate) continue;
            float[] y = resampler.Process(Tone(f, inRate, inRate / 2));
            Assert.That(Db(Rms(y) / (0.5 / Math.Sqrt(2))), Is.LessThan(-85), $"{inRate}->{outRate}: tone at {f:F0} Hz leaks");
        }
    }

    [TestCase(16000, 24000)]
    [TestCase(8000, 24000)]
    [TestCase(22050, 24000)]
    public void UpsamplingLeavesNoImages(int inRate, int outRate)
    {
        // A tone near the input's Nyquist: its first image (inRate - f) lies just above it, in the output band.
        double f = 0.9 * inRate / 2;
        float[] y = new Resampler(inRate, outRate).Process(Tone(f, inRate, inRate));
        var (amp, residual) = Fit(y, f, outRate);
        Assert.That(Db(amp / 0.5), Is.InRange(-0.01, 0.01));
        Assert.That(Db(residual / 0.5), Is.LessThan(-85), "image of the tone at " + (inRate - f));
    }

    [Test]
    public void DcPassesExactlyAndLengthIsCeilOfTheRatio()
    {
        var r = new Resampler(44100, 24000);
        float[] y = r.Process(Enumerable.Repeat(0.25f, 44100).ToArray());
        Assert.That(y.Length, Is.EqualTo(24000));
        Assert.That(y[12000], Is.EqualTo(0.25f).Within(1e-6));
        Assert.That(r.OutputLength(1), Is.EqualTo(1));
        Assert.That(r.OutputLength(44101), Is.EqualTo(24001));
        Assert.That(new Resampler(16000, 24000).OutputLength(3), Is.EqualTo(5));
        Assert.That(Resampler.Resample([1f, 2f], 24000, 24000), Is.EqualTo(new[] { 1f, 2f }));
        Assert.That(new Resampler(8000, 24000).Process([]), Is.Empty);
    }

    [Test]
    public void SameRatioGivesSameOutputWhateverTheRates()
    {
        float[] x = Tone(1000, 16000, 4000);
        Assert.That(new Resampler(16000, 24000).Process(x), Is.EqualTo(new Resampler(32000, 48000).Process(x)));
    }

    /// <summary>The numbers docs/audio.md quotes: worst passband gain error and worst leakage per conversion.</summary>
    [TestCase(48000, 24000)]
    [TestCase(44100, 24000)]
    [TestCase(16000, 24000)]
    public void MeasuredResponseSummary(int inRate, int outRate)
    {
        var r = new Resampler(inRate, outRate);
        double nyquist = 0.5 * Math.Min(inRate, outRate);
        double worstPass = 0, worstStop = -200;
        for (double fr = 0.02; fr <= 0.9001; fr += 0.04)
        {
            double f = fr * nyquist;
            var (amp, _) = Fit(r.Process(Tone(f, inRate, inRate / 2)), f, outRate);
            worstPass = Math.Max(worstPass, Math.Abs(Db(amp / 0.5)));
        }
        for (double fr = 1.0; fr < 0.5 * inRate / nyquist * 0.999; fr += 0.05)
        {
            double f = fr * nyquist;
            float[] y = r.Process(Tone(f, inRate, inRate / 2));
            worstStop = Math.Max(worstStop, Db(Rms(y) / (0.5 / Math.Sqrt(2))));
        }
        if (inRate < outRate)
        {
            // Upsampling: the worst image is that of the highest passband tone, just above the input's Nyquist.
            double f = 0.9 * nyquist;
            var (_, residual) = Fit(r.Process(Tone(f, inRate, inRate)), f, outRate);
            worstStop = Db(residual / 0.5);
        }
        TestContext.Out.WriteLine($"{inRate}->{outRate}: passband (0-0.9 fN) max |gain error| {worstPass:F5} dB; " +
            (inRate > outRate ? $"worst leakage of tones >= fN {worstStop:F1} dB" : $"image of a 0.9 fN tone {worstStop:F1} dB"));
        Assert.That(worstPass, Is.LessThan(0.01));
        Assert.That(worstStop, Is.LessThan(-85));
    }
}
