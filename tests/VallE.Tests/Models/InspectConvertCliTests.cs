using System.Text.Json;
using VallE.Tests.Support;
using VallE.Weights;

namespace VallE.Tests.Models;

/// <summary>The <c>valle inspect</c> / <c>valle convert</c> contract: JSON keys, exit codes, one-line errors.</summary>
public class InspectConvertCliTests
{
    [Test]
    public void InspectJsonHasTheContractKeys()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(ModelFamily.VallEX), tmp.File("x"));
        var r = CliRunner.Run("inspect", tmp.File("x"), "--json");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        foreach (string key in new[] { "family", "d_model", "nhead", "num_layers", "nar_d_model", "nar_nhead", "nar_num_layers", "norm_first",
                     "add_prenet", "prefix_mode", "prepend_bos", "share_embedding", "num_quantizers", "text_vocab", "audio_vocab",
                     "num_languages", "parameters", "source_dtype", "sources" })
            Assert.That(root.TryGetProperty(key, out _), key);
        Assert.That(root.GetProperty("family").GetString(), Is.EqualTo("vallex"));
        Assert.That(root.GetProperty("num_languages").GetInt32(), Is.EqualTo(3));
        Assert.That(root.GetProperty("sources").GetProperty("nhead").GetString(), Is.EqualTo("checkpoint"));
        Assert.That(root.GetProperty("converted_from").GetProperty("file").GetString(), Is.EqualTo("memory.pt"));
        Assert.That(root.GetProperty("original_sources").GetProperty("nhead").GetString(), Is.EqualTo("checkpoint"));
    }

    [Test]
    public void InspectOverrideIsReportedOnStderrAndInSources()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("x"));
        var r = CliRunner.Run("inspect", tmp.File("x"), "--json", "--nhead", "2", "--prefix-mode", "4");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Err, Does.Contain("nhead = 2 (override; the checkpoint says 4)"));
        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("nhead").GetInt32(), Is.EqualTo(2));
        Assert.That(doc.RootElement.GetProperty("prefix_mode").GetInt32(), Is.EqualTo(4));
        Assert.That(doc.RootElement.GetProperty("sources").GetProperty("prefix_mode").GetString(), Is.EqualTo("override"));
    }

    [Test]
    public void InspectTextIsReadable()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("x"));
        var r = CliRunner.Run("inspect", tmp.File("x"), "--tensors");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("valle:").And.Contains("d_model").And.Contains("ar_predict_layer.weight"));
    }

    [TestCase("--prefix-mode", "3")]
    [TestCase("--nhead", "0")]
    [TestCase("--nhead", "many")]
    [TestCase("--family", "gpt")]
    public void BadOptionValuesAreUsageErrors(string option, string value)
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("x"));
        var r = CliRunner.Run("inspect", tmp.File("x"), option, value);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.StartWith("valle: error:"));
    }

    [Test]
    public void NHeadThatDoesNotDivideIsAUsageError()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("x"));
        var r = CliRunner.Run("inspect", tmp.File("x"), "--nhead", "5");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }

    [Test]
    public void MissingFileIsInvalidInput()
    {
        var r = CliRunner.Run("inspect", "/nonexistent/model.pt");
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("checkpoint not found"));
    }

    [Test]
    public void CorruptSafetensorsIsInvalidInputInOneLine()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("x"));
        string weights = Path.Combine(tmp.File("x"), "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var r = CliRunner.Run("inspect", tmp.File("x"));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(r.Err, Does.Contain("outside the data region"));
    }

    [Test]
    public void ConvertWritesFolderAndRejectsBadDtype()
    {
        using var tmp = TestPaths.CreateTempDir();
        InMemoryModels.WriteFolder(InMemoryModels.Tiny(), tmp.File("x"));
        var r = CliRunner.Run("convert", tmp.File("x"), tmp.File("y"), "--dtype", "bf16");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("model.safetensors").And.Contains("bf16"));
        var i = CliRunner.Run("inspect", tmp.File("y"), "--json");
        using var doc = JsonDocument.Parse(i.Out);
        Assert.That(doc.RootElement.GetProperty("source_dtype").GetString(), Is.EqualTo("bf16"));

        r = CliRunner.Run("convert", tmp.File("x"), tmp.File("z"), "--dtype", "i8");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(Directory.Exists(tmp.File("z")), Is.False, "nothing written on a usage error");
    }
}
