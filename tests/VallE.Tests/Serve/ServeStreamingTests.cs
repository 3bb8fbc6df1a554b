using System.Net;
using Microsoft.Extensions.AI;
using VallE.Server;

namespace VallE.Tests.Serve;

#pragma warning disable MEAI001

/// <summary>
/// Several sentences are streamed: the first one's audio reaches the client while the server still holds the
/// second (proved with a hold in <see cref="TestClient"/>), and the whole body is a valid streaming WAV (or raw
/// PCM) equal to the library's joined output.
/// </summary>
[NonParallelizable]
public class ServeStreamingTests
{
    private const string Text = "One. Two! Three?";

    [TestCase("wav")]
    [TestCase("pcm")]
    public async Task SentencesArriveAsTheyAreSynthesised(string format)
    {
        var client = new TestClient(ServeFixture.Client) { HoldBeforeSecond = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var server = await ServeFixture.StartAsync(load: () => client);
        using var http = ServeFixture.Http(server);
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech") { Content = ServeFixture.Json(ServeFixture.Body(Text, format: format, seed: 3)) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.TransferEncodingChunked, Is.True);
        Assert.That(response.Content.Headers.ContentLength, Is.Null);
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo(format == "wav" ? "audio/wav" : "audio/pcm"));

        // The first sentence arrives while the second has not even started.
        await using var stream = await response.Content.ReadAsStreamAsync();
        var body = new MemoryStream();
        var buffer = new byte[4096];
        int header = format == "wav" ? 44 : 0;
        while (body.Length < header + 320 * 2)
        {
            int n = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.That(n, Is.Positive, "the stream ended before the first sentence");
            body.Write(buffer, 0, n);
        }
        Assert.That(client.Updates, Is.EqualTo(1), "only the first sentence was synthesised when its audio arrived");
        client.HoldBeforeSecond!.SetResult();
        await stream.CopyToAsync(body);
        byte[] bytes = body.ToArray();
        Assert.That(client.Updates, Is.EqualTo(3));

        // Equal to the library's joined audio: the same sentences with 0.2 s of silence between them.
        var joined = await ServeFixture.Client.GetAudioAsync(Text, new ValleSpeechOptions { VoiceId = "codes", Seed = 3, MaxDuration = 0.3, SplitSentences = true });
        byte[] expected = joined.Contents.OfType<DataContent>().Single().Data.ToArray()[44..];
        Assert.That(bytes[header..], Is.EqualTo(expected));
        if (format == "wav")
        {
            Assert.That(bytes[4..8], Is.EqualTo(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }), "RIFF size: length unknown");
            Assert.That(bytes[40..44], Is.EqualTo(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }), "data size: length unknown");
            var wav = ServeFixture.ReadWav(bytes);
            Assert.That(wav.Format.SampleRate, Is.EqualTo(24000));
            Assert.That(wav.Format.Channels, Is.EqualTo(1));
            Assert.That(wav.Frames, Is.EqualTo(expected.Length / 2));
        }
    }
}
