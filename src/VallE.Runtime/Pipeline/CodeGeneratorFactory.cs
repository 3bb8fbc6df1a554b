using VallE.Runtime.Cuda;
using VallE.Runtime.Cuda.Model;
using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Runtime.Pipeline;

/// <summary>
/// The one place that turns a device request (<c>cpu|cuda|auto</c>) and a checkpoint into a code generator, shared
/// by the CLI (<c>--device</c>) and <see cref="VallE.ValleSpeechClient"/>: <c>cuda</c> without a usable GPU is a
/// <see cref="NativeDependencyException"/>, <c>cuda</c> for a checkpoint the CUDA engine cannot run an
/// <see cref="InvalidInputException"/> (both with the reason); <c>auto</c> falls back to the CPU with one log line.
/// </summary>
public static class CodeGeneratorFactory
{
    /// <summary>
    /// The generator for <paramref name="checkpoint"/> on the requested device. The caller owns both the returned
    /// generator and <paramref name="gpu"/> (null when running on the CPU); the checkpoint may be disposed afterwards.
    /// </summary>
    /// <param name="log">gets one line when <c>auto</c> falls back to the CPU; may be null.</param>
    /// <param name="setting">how errors name the device setting (the CLI passes <c>--device</c>).</param>
    /// <param name="loadCpu">loads the CPU engine; null: <see cref="ValleModel.Load(ModelCheckpoint, EngineOptions?)"/>.</param>
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
        if (device is not null)
        {
            if (CudaValle.Supports(checkpoint.Config, out string reason))
            {
                try
                {
                    var generator = new CudaCodeGenerator(device, checkpoint);
                    gpu = device;
                    return generator;
                }
                catch
                {
                    device.Dispose();
                    throw;
                }
            }
            device.Dispose();
            if (kind == DeviceKind.Cuda) throw new InvalidInputException($"{setting} cuda: {reason}");
            log($"the CUDA engine cannot run this checkpoint ({reason}); running on the CPU");
        }
        ValleModel model = loadCpu is null ? ValleModel.Load(checkpoint, engineOptions) : loadCpu(checkpoint, engineOptions);
        return new CpuCodeGenerator(model);
    }
}
