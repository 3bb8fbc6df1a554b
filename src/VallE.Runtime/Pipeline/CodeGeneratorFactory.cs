using VallE.Runtime.Cuda;
using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Runtime.Models;
using VallE.Runtime.Models.Ecker;
using VallE.Weights;

namespace VallE.Runtime.Pipeline;

/// <summary>
/// The one place that turns a device request (<c>cpu|cuda|auto</c>) and a checkpoint into a code generator, shared
/// by the CLI (<c>--device</c>) and <see cref="VallE.ValleSpeechClient"/>: <c>cuda</c> without a usable GPU is a
/// <see cref="NativeDependencyException"/>, <c>cuda</c> for a checkpoint the CUDA engine cannot run an
/// <see cref="InvalidInputException"/> (both with the reason); <c>auto</c> falls back to the CPU with one log line.
/// VALL-E and VALL-E X checkpoints give a <see cref="ValleCodeGenerator"/>, e-c-k-e-r/vall-e ones an
/// <see cref="EckerCodeGenerator"/>, with the same device rules (CUDA refuses bf16 weights for ecker: no bf16 linear).
/// </summary>
public static class CodeGeneratorFactory
{
    /// <summary>
    /// The generator for <paramref name="checkpoint"/> on the requested device. The caller owns both the returned
    /// generator and <paramref name="gpu"/> (null when running on the CPU); the checkpoint may be disposed afterwards.
    /// </summary>
    /// <param name="log">gets one line when <c>auto</c> falls back to the CPU; may be null.</param>
    /// <param name="setting">how errors name the device setting (the CLI passes <c>--device</c>).</param>
    /// <param name="loadCpu">loads the CPU engine of a VALL-E checkpoint; null: <see cref="ValleModel.Load(ModelCheckpoint, EngineOptions?)"/>.</param>
    public static ICodeGenerator Create(DeviceKind kind, ModelCheckpoint checkpoint, EngineOptions engineOptions,
        Action<string>? log, out CudaDevice? gpu, string setting = "device",
        Func<ModelCheckpoint, EngineOptions, ValleModel>? loadCpu = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(engineOptions);
        log ??= static _ => { };
        gpu = null;
        CudaDevice? device;
        try
        {
            device = DeviceSelection.Resolve(kind, log);
        }
        catch (NativeDependencyException e)
        {
            throw new NativeDependencyException($"{setting} cuda: {e.Message}", e);
        }
        var ecker = checkpoint.Config.Ecker;
        if (device is not null)
        {
            // The same model on the CUDA backend, unless the backend lacks an operation this checkpoint needs.
            var backend = new CudaComputeBackend(device, ownsDevice: false);
            string? missing = ecker is null
                ? ModelRequirements.Missing(checkpoint.Config, engineOptions.WeightsDType, backend)
                : EckerModel.Missing(ecker, engineOptions.WeightsDType, backend);
            if (missing is null)
            {
                try
                {
                    // e-c-k-e-r/vall-e on CUDA: the RmsNorm/Rope/GatedGelu kernels are compiled but have not run on a GPU yet (docs/ecker.md).
                    ICodeGenerator generator = ecker is null
                        ? new ValleCodeGenerator(ValleModel.Load(checkpoint, engineOptions, backend))
                        : new EckerCodeGenerator(LoadOwning(checkpoint, backend, engineOptions.WeightsDType), checkpoint.Config, "cuda");
                    gpu = device;
                    return generator;
                }
                catch
                {
                    device.Dispose();
                    throw;
                }
            }
            backend.Dispose();
            device.Dispose();
            if (kind == DeviceKind.Cuda) throw new InvalidInputException($"{setting} cuda: {missing}");
            log($"{missing}; running on the CPU");
        }
        if (ecker is not null) return EckerCodeGenerator.LoadCpu(checkpoint, engineOptions);
        ValleModel model = loadCpu is null ? ValleModel.Load(checkpoint, engineOptions) : loadCpu(checkpoint, engineOptions);
        return new ValleCodeGenerator(model);
    }

    /// <summary>An ecker model that owns <paramref name="backend"/>, which is disposed also when loading fails (as ValleModel.Load does).</summary>
    private static EckerModel LoadOwning(ModelCheckpoint checkpoint, IComputeBackend backend, WeightsDType dtype)
    {
        try
        {
            return EckerModel.Load(checkpoint, backend, dtype, ownsBackend: true);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }
}
