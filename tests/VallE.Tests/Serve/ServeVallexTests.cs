using System.Text.Json;
using VallE.Server;
using VallE.Tests.Codec;
using VallE.Tests.Support;

namespace VallE.Tests.Serve;

/// <summary>
/// <c>valle serve</c> with a VALL-E X checkpoint (the vallex-tiny fixture, no symbol table; loaded as the library's
/// VALL-E X client tests load it): a preset voice (alan.npz) and a codes voice with a zh transcript; the request's
/// <c>language</c>, <c>best_of</c> and <c>prompt_mode</c> reach the library, whose refusals are 400s naming the field;
/// preset voice specs, <c>--voices-dir</c> presets and <c>--voice-language</c>. Noise audio (untrained weights).
/// </summary>
[NonParallelizable]
public class ServeVallexTests
{
    private ValleServer? _server;
    private HttpClient? _http;

    private HttpClient Http => _http ?? throw new InvalidOperationException("not started");

    [OneTimeSetUp]
    public async Task Start()
    {
        var options = new ValleSpeechClientOptions
        {
            Checkpoint = TestPaths.RequireShared("valle", "vallex-tiny", "checkpoint.pt"),
            CodecDecoder = EncodecTestModels.Decoder,
            Device = "cpu",
            Threads = 1,
        };
        foreach (var spec in new[]
                 {
                     $"alan={TestPaths.RequireShared("vallex-presets", "alan.npz")}",
                     $"codes={TestPaths.RequireShared("valle", "vallex-tiny", "prompt_codes.npy")}:你好。",
                 })
        {
            var (name, voice) = VoiceSources.Parse(spec, spec.StartsWith("codes", StringComparison.Ordinal) ? "zh" : null);
            options.Voices[name] = voice;
        }
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

    private static string Body(string input, string voice, params (string Key, object Value)[] extra)
    {
        var body = new Dictionary<string, object?> { ["input"] = input, ["voice"] = voice, ["seed"] = 3, ["max_duration"] = 0.3 };
        foreach (var (k, v) in extra) body[k] = v;
        return JsonSerializer.Serialize(body);
    }

    [Test]
    public async Task APresetVoiceSpeaksInTheRequestsLanguage()
    {
        var r = await ServeFixture.PostSpeech(Http, Body("Hello there.", "alan", ("language", "en"), ("best_of", 2), ("prompt_mode", "fixed")));
        Assert.That((int)r.StatusCode, Is.EqualTo(200), await r.Content.ReadAsStringAsync());
        Assert.That(ServeFixture.ContentType(r)?.MediaType, Is.EqualTo("audio/wav"));
        var wav = ServeFixture.ReadWav(await r.Content.ReadAsByteArrayAsync());
        Assert.That(wav.Format.SampleRate, Is.EqualTo(24000));
        Assert.That(wav.Frames, Is.GreaterThan(0));

        var zh = await ServeFixture.PostSpeech(Http, Body("你好。", "codes", ("language", "zh")));
        Assert.That((int)zh.StatusCode, Is.EqualTo(200), await zh.Content.ReadAsStringAsync());
        Assert.That(ServeFixture.ReadWav(await zh.Content.ReadAsByteArrayAsync()).Frames, Is.GreaterThan(0));
    }

    [Test]
    public async Task SlidingPromptsOverSentencesStream()
    {
        var r = await ServeFixture.PostSpeech(Http, Body("One. Two!", "alan", ("prompt_mode", "sliding"), ("language", "auto")));
        Assert.That((int)r.StatusCode, Is.EqualTo(200), await r.Content.ReadAsStringAsync());
        Assert.That((await r.Content.ReadAsByteArrayAsync()).Length, Is.GreaterThan(44));
    }

    [TestCase("best_of", 0, "best_of")]
    [TestCase("best_of", 65, "best_of")]
    [TestCase("best_of", 1.5, "best_of")]
    [TestCase("best_of", "two", "best_of")]
    [TestCase("prompt_mode", "rolling", "prompt_mode")]
    [TestCase("prompt_mode", 1, "prompt_mode")]
    [TestCase("language", "en-us", "language")]
    [TestCase("language", "fr", "language")]
    public async Task BadValuesAre400NamingTheField(string field, object value, string param)
    {
        var r = await ServeFixture.PostSpeech(Http, Body("Hi.", "alan", (field, value)));
        Assert.That((int)r.StatusCode, Is.EqualTo(400), await r.Content.ReadAsStringAsync());
        var error = await ServeFixture.Error(r);
        Assert.That(error.GetProperty("param").GetString(), Is.EqualTo(param), error.ToString());
        Assert.That(error.GetProperty("message").GetString(), Does.Contain(param));
    }

    [Test]
    public async Task VoicesListsPresetsAsAnyVoice()
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync("/v1/voices"));
        var ids = doc.RootElement.GetProperty("voices").EnumerateArray().Select(v => v.GetString()).ToArray();
        Assert.That(ids, Is.EquivalentTo(new[] { "alan", "codes" }));
    }
}

/// <summary>Preset voice specs, presets in a voices directory and transcript languages (no model needed).</summary>
public class ServeVallexVoiceSourceTests
{
    [Test]
    public void PresetsAndTranscriptLanguages()
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("alan.npz"), [1]);
        File.WriteAllBytes(dir.File("me.npy"), [1]);
        File.WriteAllText(dir.File("me.txt"), "你好。");

        var (name, voice) = VoiceSources.Parse($"al={dir.File("alan.npz")}");
        Assert.That(name, Is.EqualTo("al"));
        Assert.That(voice.PresetPath, Is.EqualTo(dir.File("alan.npz")));
        Assert.That(VoiceSources.Parse($"me={dir.File("me.npy")}:你好。", "zh").Voice.TranscriptLanguage, Is.EqualTo("zh"));
        Assert.That(VoiceSources.Parse($"me={dir.File("me.npy")}:你好。", "auto").Voice.TranscriptLanguage, Is.Null);
        Assert.Throws<ArgumentException>(() => VoiceSources.Parse($"me={dir.File("me.npy")}:你好。", "en-us"));
        Assert.Throws<ArgumentException>(() => VoiceSources.Parse($"al={dir.File("alan.npz")}", "en"), "a preset has its own language");
        Assert.Throws<InvalidInputException>(() => VoiceSources.Parse($"al={dir.File("none.npz")}"));

        var voices = VoiceSources.FromDirectory(dir.Path, new Dictionary<string, string> { ["me"] = "zh" });
        Assert.That(voices.Select(v => v.Name), Is.EqualTo(new[] { "alan", "me" }));
        Assert.That(voices[0].Voice.PresetPath, Is.EqualTo(dir.File("alan.npz")));
        Assert.That(voices[1].Voice.TranscriptLanguage, Is.EqualTo("zh"));

        File.WriteAllBytes(dir.File("alan.wav"), [1]);
        Assert.That(() => VoiceSources.FromDirectory(dir.Path), Throws.InstanceOf<InvalidInputException>().With.Message.Contains("both a preset"));
    }

    [Test]
    public void ServeFlagsForVallex()
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("me.npy"), [1]);
        string[] baseArgs = ["serve", "--checkpoint", "c.pt", "--codec-decoder", "d.onnx", "--voice", $"me={dir.File("me.npy")}:你好。"];
        var r = CliRunner.Run([.. baseArgs, "--voice-language", "me=klingon"]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("klingon"));
        r = CliRunner.Run([.. baseArgs, "--voice-language", "nobody=zh"]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("no voice 'nobody'"));
        r = CliRunner.Run([.. baseArgs, "--voice-language", "me"]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("NAME=L"));
    }
}
