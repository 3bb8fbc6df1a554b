using Microsoft.Extensions.AI;
using VallE.Runtime.Audio;
using VallE.Runtime.Pipeline;
using VallE.Tests.Codec;
using VallE.Tests.Support;
using VallE.Tests.Text;

namespace VallE.Tests.Api;

#pragma warning disable MEAI001 // ITextToSpeechClient is experimental in Microsoft.Extensions.AI 11.

/// <summary>
/// <see cref="ValleSpeechClient"/> end to end on the tiny fixture checkpoint, the fixture symbol table, espeak-ng and
/// the random-weight EnCodec pair. The audio is noise (untrained weights); what is checked is the API's plumbing.
/// </summary>
[NonParallelizable]
public class ValleSpeechClientTests
{
    private ValleSpeechClient? _client;

    private static ValleSpeechClientOptions Options(bool wavVoice = false)
    {
        EspeakTestSupport.RequireEspeak();
        var options = new ValleSpeechClientOptions
        {
            Checkpoint = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"),
            Symbols = TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"),
            CodecDecoder = EncodecTestModels.Decoder,
            Device = "cpu",
            Threads = 1,
        };
        options.Voices["codes"] = ValleVoice.FromCodes(TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy"), "Go to her.");
        if (wavVoice)
        {
            options.CodecEncoder = EncodecTestModels.Encoder;
            options.Voices["wav"] = ValleVoice.FromWav(TestPaths.RequireShared("audio", "8455_210777_000067_000000.wav"),
                "This I read with great attention, while they sat silent.");
        }
        return options;
    }

    private ValleSpeechClient Client => _client ??= new ValleSpeechClient(Options());

    [OneTimeTearDown]
    public void TearDown() => _client?.Dispose();

    private static ValleSpeechOptions Fast(ulong seed = 7, string voice = "codes") =>
        new() { VoiceId = voice, Seed = seed, MaxDuration = 0.3 };

    private static byte[] Audio(TextToSpeechResponse r) => r.Contents.OfType<DataContent>().Single().Data.ToArray();

    [Test]
    public async Task GetAudioAsyncReturnsA24kHzMonoPcm16WavWithStatsAndUsage()
    {
        var r = await Client.GetAudioAsync("Hello there.", Fast());
        var data = r.Contents.OfType<DataContent>().Single();
        Assert.That(r.Contents, Has.Count.EqualTo(1));
        Assert.That(data.MediaType, Is.EqualTo("audio/wav"));
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("a.wav"), data.Data.ToArray());
        WavAudio wav = WavReader.Read(dir.File("a.wav"));
        Assert.That(wav.Format, Is.EqualTo(new WavFormat(WavSampleFormat.Pcm, 16, 1, 24000)));
        Assert.That(wav.Frames % 320, Is.Zero);
        Assert.That(wav.Frames / 320, Is.InRange(1, 23));   // 0.3 s = 23 frames at most
        Assert.That(r.AdditionalProperties!["audio_seconds"], Is.EqualTo(wav.Frames / 24000.0));
        Assert.That(r.AdditionalProperties["device"], Is.EqualTo("cpu"));
        foreach (string key in new[] { "text_ms", "ar_ms", "nar_ms", "codec_ms", "total_ms", "ar_steps", "frames", "stop_reason" })
            Assert.That(r.AdditionalProperties.ContainsKey(key), key);
        Assert.That(r.Usage!.OutputAudioTokenCount, Is.EqualTo(wav.Frames / 320));
        Assert.That(r.ModelId, Is.EqualTo("checkpoint.pt"));
    }

    [Test]
    public async Task PcmGivesTheSameSamplesWithoutTheHeader()
    {
        byte[] wav = Audio(await Client.GetAudioAsync("Hello there.", Fast()));
        var options = Fast();
        options.AudioFormat = "pcm";
        var r = await Client.GetAudioAsync("Hello there.", options);
        Assert.That(r.Contents.OfType<DataContent>().Single().MediaType, Is.EqualTo("audio/pcm"));
        Assert.That(Audio(r), Is.EqualTo(wav[44..]));
    }

    [Test]
    public async Task ASeedGivesIdenticalBytesAndAdditionalPropertiesWorkLikeTheTypedOptions()
    {
        byte[] a = Audio(await Client.GetAudioAsync("Hello there.", Fast(11)));
        byte[] b = Audio(await Client.GetAudioAsync("Hello there.", Fast(11)));
        Assert.That(b, Is.EqualTo(a));
        var plain = new TextToSpeechOptions
        {
            VoiceId = "codes",
            AdditionalProperties = new() { ["seed"] = 11, ["max_duration"] = "0.3", ["top_k"] = -100L, ["temperature"] = 1.0 },
        };
        Assert.That(Audio(await Client.GetAudioAsync("Hello there.", plain)), Is.EqualTo(a));
        Assert.That(Audio(await Client.GetAudioAsync("Hello there.", (TextToSpeechOptions)Fast(11).Clone())), Is.EqualTo(a));
    }

    [Test]
    public async Task StreamingGivesOneUpdatePerSentence()
    {
        var updates = new List<TextToSpeechResponseUpdate>();
        await foreach (var u in Client.GetStreamingAudioAsync("One. Two! Three?", Fast(3)))
            updates.Add(u);
        Assert.That(updates, Has.Count.EqualTo(3));
        for (int i = 0; i < 3; i++)
        {
            Assert.That(updates[i].Kind, Is.EqualTo(TextToSpeechResponseUpdateKind.AudioUpdated));
            var data = updates[i].Contents.OfType<DataContent>().Single();
            Assert.That(data.MediaType, Is.EqualTo("audio/wav"));
            Assert.That(data.Data.Span[..4].ToArray(), Is.EqualTo("RIFF"u8.ToArray()));
            Assert.That(updates[i].AdditionalProperties!["sentence"], Is.EqualTo(i));
            Assert.That(updates[i].AdditionalProperties!["sentences"], Is.EqualTo(3));
        }
        Assert.That(updates[1].AdditionalProperties!["text"], Is.EqualTo("Two!"));

        // Each update is its sentence alone; the joined response is the same sentences with a pause between them.
        var joined = Audio(await Client.GetAudioAsync("One. Two! Three?", new ValleSpeechOptions
        {
            VoiceId = "codes", Seed = 3, MaxDuration = 0.3, SplitSentences = true,
        }));
        long streamed = updates.Sum(u => u.Contents.OfType<DataContent>().Single().Data.Length - 44L);
        long gap = 2 * (long)(VallE.Runtime.Pipeline.SentenceJoin.GapSeconds * 24000);
        Assert.That(joined.Length - 44L, Is.EqualTo(streamed + 2 * gap));
    }

    [Test]
    public async Task VoiceErrorsAreArgumentExceptions()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetAudioAsync("Hi.", new TextToSpeechOptions { VoiceId = "nobody" }));
        await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var _ in Client.GetStreamingAudioAsync("Hi.", new TextToSpeechOptions { VoiceId = "nobody" })) { }
        });
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetAudioAsync("Hi.", new TextToSpeechOptions { VoiceId = "codes", AudioFormat = "mp3" }));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetAudioAsync("Hi.", new TextToSpeechOptions { VoiceId = "codes", Language = "xx-nonexistent" }));
        Assert.That((await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.GetAudioAsync("Hi.", new ValleSpeechOptions { TopP = 2 })))!.ParamName, Is.EqualTo("TopP"));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetAudioAsync("Hi.", new TextToSpeechOptions { AdditionalProperties = new() { ["top_k"] = 1.5 } }));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetAudioAsync("  "));
    }

    [Test]
    public async Task TheOnlyVoiceIsUsedWithoutAVoiceIdAndTwoVoicesNeedOne()
    {
        var r = await Client.GetAudioAsync("Hi.", new ValleSpeechOptions { Seed = 1, MaxDuration = 0.1 });
        Assert.That(Audio(r), Is.Not.Empty);

        using var two = new ValleSpeechClient(Options(wavVoice: true));
        await Assert.ThrowsAsync<ArgumentException>(() => two.GetAudioAsync("Hi.", new ValleSpeechOptions { MaxDuration = 0.1 }));
        var w = await two.GetAudioAsync("Hi.", Fast(voice: "wav"));
        Assert.That(w.Contents.OfType<DataContent>().Single().MediaType, Is.EqualTo("audio/wav"));
    }

    [Test]
    public void CancellationFromTheProgressCallbackStopsTheCall()
    {
        using var cts = new CancellationTokenSource();
        var reports = new List<ValleProgress>();
        var options = new ValleSpeechOptions
        {
            VoiceId = "codes", Seed = 1,
            Progress = new SyncProgress(p => { reports.Add(p); if (p.Stage == ValleStage.Ar && p.Step == 2) cts.Cancel(); }),
        };
        Assert.That(() => Client.GetAudioAsync("Hello there, this is a longer sentence.", options, cts.Token),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(reports.Count(p => p.Stage == ValleStage.Ar), Is.EqualTo(3), "the call stops within one AR step");
        // The client is still usable.
        Assert.That(Audio(Client.GetAudioAsync("Hi.", Fast()).GetAwaiter().GetResult()), Is.Not.Empty);
    }

    [Test]
    public void ACancelledTokenStopsStreaming()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(async () => { await foreach (var _ in Client.GetStreamingAudioAsync("One. Two.", Fast(), cts.Token)) { } },
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task ConcurrentCallsGiveTheSameBytesAsSequentialOnes()
    {
        string[] texts = ["Hello there.", "Go on.", "Yes, please.", "Hello there."];
        var sequential = new List<byte[]>();
        foreach (string t in texts) sequential.Add(Audio(await Client.GetAudioAsync(t, Fast(5))));
        var concurrent = await Task.WhenAll(texts.Select(t => Task.Run(() => Client.GetAudioAsync(t, Fast(5)))));
        for (int i = 0; i < texts.Length; i++)
            Assert.That(Audio(concurrent[i]), Is.EqualTo(sequential[i]), texts[i]);
    }

    [Test]
    public void GetServiceReturnsTheClientTheGeneratorAndMetadata()
    {
        ITextToSpeechClient c = Client;
        Assert.That(c.GetService<ValleSpeechClient>(), Is.SameAs(Client));
        Assert.That(c.GetService<ITextToSpeechClient>(), Is.SameAs(Client));
        Assert.That(c.GetService<ICodeGenerator>(), Is.InstanceOf<ValleCodeGenerator>());
        Assert.That(c.GetService<VallE.Runtime.Models.ValleModel>(), Is.Not.Null);
        Assert.That(c.GetService<TextToSpeechClientMetadata>()!.ProviderName, Is.EqualTo("valle"));
        Assert.That(c.GetService<ValleSpeechClient>("key"), Is.Null);
        Assert.That(c.GetService<string>(), Is.Null);
    }

    [Test]
    public async Task TheBuilderPipelineWorks()
    {
        ITextToSpeechClient pipeline = Client.AsBuilder()
            .ConfigureOptions(o => { o.VoiceId ??= "codes"; (o.AdditionalProperties ??= [])["max_duration"] = 0.2; o.AdditionalProperties["seed"] = 9; })
            .Build();
        var r = await pipeline.GetAudioAsync("Hello.");
        var again = await Client.GetAudioAsync("Hello.", new ValleSpeechOptions { VoiceId = "codes", MaxDuration = 0.2, Seed = 9 });
        Assert.That(Audio(r), Is.EqualTo(Audio(again)));
        Assert.That(pipeline.GetService<ValleSpeechClient>(), Is.SameAs(Client));
    }

    /// <summary>Every e-c-k-e-r/vall-e option, as a typed property or as its key, is refused on a VALL-E checkpoint.</summary>
    [TestCase("Mode", "mode", "ar+nar")]
    [TestCase("Length", "length", 10)]
    [TestCase("DemaskSteps", "demask_steps", 5)]
    [TestCase("CfgStrength", "cfg_strength", 2.5f)]
    [TestCase("CfgRescale", "cfg_rescale", 0.5f)]
    [TestCase("NarTemperature", "nar_temperature", 0.5f)]
    [TestCase("MinArTemperature", "min_ar_temperature", 0.2f)]
    [TestCase("MinNarTemperature", "min_nar_temperature", 0.2f)]
    [TestCase("RepetitionPenaltyDecay", "repetition_penalty_decay", 0.5f)]
    [TestCase("LengthPenalty", "length_penalty", 1f)]
    public void EckerOptionsAreRefused(string property, string key, object value)
    {
        var typed = Fast();
        typeof(ValleSpeechOptions).GetProperty(property)!.SetValue(typed, value);
        var keyed = Fast();
        keyed.AdditionalProperties = new() { [key] = value };
        foreach (var options in new[] { typed, keyed })
            Assert.That(() => Client.GetAudioAsync("Hi.", options), Throws.ArgumentException
                .With.Property("ParamName").EqualTo(property).And.Message.Contains($"{property} is an e-c-k-e-r/vall-e option"));
    }

    [Test]
    public async Task DisposedClientThrowsObjectDisposedException()
    {
        var client = new ValleSpeechClient(Options());
        Assert.That(Audio(await client.GetAudioAsync("Hi.", Fast())), Is.Not.Empty);
        client.Dispose();
        client.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetAudioAsync("Hi.", Fast()));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => { await foreach (var _ in client.GetStreamingAudioAsync("Hi.", Fast())) { } });
    }

    /// <summary>A consumer that stops after one update and never disposes its enumerator blocks nothing.</summary>
    [Test]
    public async Task AnAbandonedStreamBlocksNeitherOtherCallsNorDispose()
    {
        var client = new ValleSpeechClient(Options());
        var stream = client.GetStreamingAudioAsync("One. Two. Three.", Fast()).GetAsyncEnumerator();
        Assert.That(await stream.MoveNextAsync(), Is.True);
        var other = client.GetAudioAsync("Hi.", Fast());
        Assert.That(other.Wait(TimeSpan.FromSeconds(60)), Is.True, "another call waited behind the abandoned stream");
        var dispose = Task.Run(client.Dispose);
        Assert.That(dispose.Wait(TimeSpan.FromSeconds(60)), Is.True, "Dispose waited behind the abandoned stream");
        Assert.That(async () => await stream.MoveNextAsync(), Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void DisposeCancelsACallInProgress()
    {
        var client = new ValleSpeechClient(Options());
        var started = new ManualResetEventSlim();
        var options = new ValleSpeechOptions { VoiceId = "codes", Seed = 1, Progress = new SyncProgress(_ => { started.Set(); Thread.Sleep(5); }) };
        var call = client.GetAudioAsync("Hello there, this is a longer sentence to speak.", options);
        Assert.That(started.Wait(TimeSpan.FromSeconds(60)), Is.True);
        client.Dispose();
        Assert.That(() => call, Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void BadOptionsAndFilesAreReported()
    {
        Assert.Throws<ArgumentNullException>(() => new ValleSpeechClient(null!));
        var noCheckpoint = Options();
        noCheckpoint.Checkpoint = null;
        Assert.Throws<ArgumentException>(() => new ValleSpeechClient(noCheckpoint));
        var badDevice = Options();
        badDevice.Device = "tpu";
        Assert.Throws<ArgumentException>(() => new ValleSpeechClient(badDevice));
        var noEncoder = Options(wavVoice: true);
        noEncoder.CodecEncoder = null;
        Assert.Throws<ArgumentException>(() => new ValleSpeechClient(noEncoder));
        var noSymbols = Options();
        noSymbols.Symbols = null;
        Assert.Throws<ArgumentException>(() => new ValleSpeechClient(noSymbols));
        Assert.Throws<ArgumentException>(() => ValleVoice.FromWav("a.wav", " "));

        using var dir = TestPaths.CreateTempDir();
        File.WriteAllText(dir.File("bad.npy"), "not numpy");
        var badCodes = Options();
        badCodes.Voices["bad"] = ValleVoice.FromCodes(dir.File("bad.npy"), "Hi.");
        Assert.Throws(Is.InstanceOf<InvalidInputException>(), () => new ValleSpeechClient(badCodes));
        var missingCheckpoint = Options();
        missingCheckpoint.Checkpoint = dir.File("missing.pt");
        Assert.Throws(Is.InstanceOf<InvalidInputException>(), () => new ValleSpeechClient(missingCheckpoint));
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports on the calling (synthesising) thread.</summary>
    private sealed class SyncProgress(Action<ValleProgress> report) : IProgress<ValleProgress>
    {
        public void Report(ValleProgress value) => report(value);
    }
}
