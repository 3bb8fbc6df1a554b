using System.Text.Json;
using VallE.Server;
using VallE.Tests.Codec;
using VallE.Tests.Support;
using static VallE.Tests.Ecker.EckerTestAssets;

namespace VallE.Tests.Serve;

/// <summary>
/// <c>POST /v1/audio/speech</c> with an e-c-k-e-r/vall-e checkpoint (narlen_d96: AR and NAR-len; our test tokenizer),
/// its voice given as <c>valle serve --voice NAME=FILE</c> gives it (prompt codes alone): the request's <c>language</c>,
/// <c>mode</c> and NAR-len fields reach the library, whose refusals are 400s naming the field. Noise audio.
/// </summary>
[NonParallelizable]
public class ServeEckerTests
{
    private ValleServer? _server;
    private HttpClient? _http;

    private HttpClient Http => _http ?? throw new InvalidOperationException("not started");

    [OneTimeSetUp]
    public async Task Start()
    {
        RequireEspeak();
        var options = new ValleSpeechClientOptions
        {
            Checkpoint = Fixture("narlen_d96", "fp32.sft"),
            Tokenizer = TestTokenizer,
            CodecDecoder = EncodecTestModels.Decoder,
            Device = "cpu",
            Threads = 1,
        };
        var (name, voice) = VoiceSources.Parse($"codes={Fixture("narlen_d96", "prompt_codes.npy")}");
        Assert.That(voice.HasTranscript, Is.False);
        options.Voices[name] = voice;
        _server = new ValleServer(new ValleServerOptions { Host = "127.0.0.1", Port = 0 }, () => new ValleSpeechClient(options));
        await _server.StartAsync();
        await _server.Loaded.WaitAsync(TimeSpan.FromSeconds(120));
        _http = ServeFixture.Http(_server);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }

    private static string Body(string input, params (string Key, object Value)[] extra)
    {
        var body = new Dictionary<string, object?> { ["model"] = "narlen_d96", ["input"] = input, ["voice"] = "codes", ["temperature"] = 0, ["max_duration"] = 0.3 };
        foreach (var (k, v) in extra) body[k] = v;
        return JsonSerializer.Serialize(body);
    }

    [Test]
    public async Task SpeaksArNarAndNarLen()
    {
        var r = await ServeFixture.PostSpeech(Http, Body("Hello there.", ("language", "en")));
        Assert.That((int)r.StatusCode, Is.EqualTo(200), await r.Content.ReadAsStringAsync());
        Assert.That(ServeFixture.ContentType(r)?.MediaType, Is.EqualTo("audio/wav"));
        var wav = ServeFixture.ReadWav(await r.Content.ReadAsByteArrayAsync());
        Assert.That(wav.Format.SampleRate, Is.EqualTo(24000));
        Assert.That(wav.Frames, Is.GreaterThan(0));

        var n = await ServeFixture.PostSpeech(Http, Body("Guten Tag.", ("language", "de"), ("mode", "nar-len"), ("length", 8), ("demask_steps", 2),
            ("cfg_strength", 2.5), ("cfg_rescale", 0.75), ("nar_temperature", 0)));
        Assert.That((int)n.StatusCode, Is.EqualTo(200), await n.Content.ReadAsStringAsync());
        Assert.That(ServeFixture.ReadWav(await n.Content.ReadAsByteArrayAsync()).Frames, Is.EqualTo(8 * 320));
    }

    [Test]
    public async Task SentencesStream()
    {
        var r = await ServeFixture.PostSpeech(Http, Body("One. Two!", ("response_format", "pcm")));
        Assert.That((int)r.StatusCode, Is.EqualTo(200), await r.Content.ReadAsStringAsync());
        Assert.That((await r.Content.ReadAsByteArrayAsync()).Length, Is.GreaterThan(0));
    }

    [TestCase("mode", "ar", "mode")]
    [TestCase("mode", 1, "mode")]
    [TestCase("length", 4, "length")]
    [TestCase("length", 1.5, "length")]
    [TestCase("demask_steps", 3, "demask_steps")]
    [TestCase("nar_temperature", -1, "nar_temperature")]
    [TestCase("repetition_penalty", 0, "repetition_penalty")]
    [TestCase("min_ar_temperature", -1, "min_ar_temperature")]
    [TestCase("min_nar_temperature", -0.5, "min_nar_temperature")]
    [TestCase("repetition_penalty_decay", "fast", "repetition_penalty_decay")]
    [TestCase("length_penalty", 1e39, "length_penalty")]
    [TestCase("language", "en-us", "language")]
    [TestCase("best_of", 2, "best_of")]
    public async Task BadValuesAre400NamingTheField(string field, object value, string param)
    {
        var r = await ServeFixture.PostSpeech(Http, Body("Hi.", (field, value)));
        Assert.That((int)r.StatusCode, Is.EqualTo(400), await r.Content.ReadAsStringAsync());
        var error = await ServeFixture.Error(r);
        Assert.That(error.GetProperty("param").GetString(), Is.EqualTo(param), error.ToString());
        Assert.That(error.GetProperty("message").GetString(), Does.Contain(param));
    }

    /// <summary>
    /// The ecker sampler fields reach the sampler: a seeded sampled request (both stages sampled, a repetition penalty for
    /// the decay to reshape) with one of them is a 200 whose audio differs from the same request without it.
    /// </summary>
    [TestCase("min_ar_temperature", 0.1)]
    [TestCase("min_nar_temperature", 0.1)]
    [TestCase("repetition_penalty_decay", 1.0)]
    [TestCase("length_penalty", 4.0)]
    public async Task SamplerFieldsReachTheSampler(string field, double value)
    {
        (string, object)[] sampled = [("temperature", 1), ("nar_temperature", 1), ("repetition_penalty", 1.5), ("seed", 11)];
        var without = await ServeFixture.PostSpeech(Http, Body("Hello there.", sampled));
        Assert.That((int)without.StatusCode, Is.EqualTo(200), await without.Content.ReadAsStringAsync());
        var with = await ServeFixture.PostSpeech(Http, Body("Hello there.", [.. sampled, (field, value)]));
        Assert.That((int)with.StatusCode, Is.EqualTo(200), await with.Content.ReadAsStringAsync());
        byte[] a = await with.Content.ReadAsByteArrayAsync(), b = await without.Content.ReadAsByteArrayAsync();
        Assert.That(a.AsSpan().SequenceEqual(b), Is.False, $"{field} changes nothing");
    }

    [TestCase("repetition_penalty_decay", 0.5)]
    [TestCase("length_penalty", 1.0)]
    public async Task NarLenRefusesTheArPenalties(string field, double value)
    {
        var r = await ServeFixture.PostSpeech(Http, Body("Hi.", ("mode", "nar-len"), (field, value)));
        Assert.That((int)r.StatusCode, Is.EqualTo(400), await r.Content.ReadAsStringAsync());
        var error = await ServeFixture.Error(r);
        Assert.That(error.GetProperty("param").GetString(), Is.EqualTo(field), error.ToString());
        Assert.That(error.GetProperty("message").GetString(), Does.StartWith(field));
    }
}
