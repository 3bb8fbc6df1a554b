# valle serve, CPU image. Build the published command first, then the image:
#   ./build.sh publish            # -> artifacts/valle (framework-dependent, ReadyToRun, linux-x64)
#   docker build -t valle .
#   docker run --rm -p 8080:8080 -v /path/to/models:/models:ro valle
# /models must hold checkpoint.pt, unique_text_tokens.k2symbols, encodec_decoder.onnx, encodec_encoder.onnx and
# voices/ (NAME.wav or NAME.npy + NAME.txt); override CMD for other paths or flags. GPU variant: docs/serving.md.
# The base image has the .NET and ASP.NET Core runtimes (valle needs both); .NET 10's default tags are Ubuntu 24.04,
# pass --build-arg BASE=<a Debian tag of dotnet/aspnet:10.0> for Debian. Only libespeak-ng is added (ONNX Runtime is
# inside artifacts/valle).
ARG BASE=mcr.microsoft.com/dotnet/aspnet:10.0
FROM ${BASE}

RUN apt-get update \
 && apt-get install -y --no-install-recommends libespeak-ng1 \
 && rm -rf /var/lib/apt/lists/*

COPY artifacts/valle/ /opt/valle/
RUN printf '#!/bin/sh\nexec dotnet /opt/valle/valle.dll "$@"\n' > /usr/local/bin/valle && chmod 755 /usr/local/bin/valle

# Not root (the images define APP_UID, user "app"); the server only reads /models.
USER $APP_UID
EXPOSE 8080
# exec form: valle is PID 1 and gets SIGTERM itself (docker stop, Kubernetes): it stops accepting, finishes the
# requests in flight within --shutdown-timeout (keep it below the orchestrator's grace period) and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/opt/valle/valle.dll", "serve", "--host", "0.0.0.0", "--port", "8080"]
CMD ["--checkpoint", "/models/checkpoint.pt", "--symbols", "/models/unique_text_tokens.k2symbols", \
     "--codec-decoder", "/models/encodec_decoder.onnx", "--codec-encoder", "/models/encodec_encoder.onnx", \
     "--voices-dir", "/models/voices", "--shutdown-timeout", "25"]
