# valle serve, CPU image. Build the published command first, then the image:
#   ./build.sh publish            # -> artifacts/valle (framework-dependent, ReadyToRun, linux-x64)
#   docker build -t valle .
#   docker run --rm -p 8080:8080 -v /path/to/models:/models:ro valle
# /models must hold checkpoint.pt, unique_text_tokens.k2symbols, encodec_decoder.onnx, encodec_encoder.onnx and
# voices/ (NAME.wav or NAME.npy + NAME.txt); override CMD for other paths or flags. GPU variant: docs/serving.md.
# Debian 13 (trixie) with Microsoft's .NET and ASP.NET Core runtimes from packages.microsoft.com (valle needs
# both) and libespeak-ng; ONNX Runtime is inside artifacts/valle. (Not built here: no docker daemon on the
# development machine. The Microsoft image mcr.microsoft.com/dotnet/aspnet:10.0 works too; its default tags are Ubuntu.)
ARG BASE=debian:trixie-slim
FROM ${BASE}

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libespeak-ng1 \
 && curl -fsSL -o /tmp/packages-microsoft-prod.deb https://packages.microsoft.com/config/debian/13/packages-microsoft-prod.deb \
 && dpkg -i /tmp/packages-microsoft-prod.deb && rm /tmp/packages-microsoft-prod.deb \
 && apt-get update \
 && apt-get install -y --no-install-recommends aspnetcore-runtime-10.0 \
 && apt-get purge -y curl && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home valle

COPY artifacts/valle/ /opt/valle/
RUN printf '#!/bin/sh\nexec dotnet /opt/valle/valle.dll "$@"\n' > /usr/local/bin/valle && chmod 755 /usr/local/bin/valle

# Not root; the server only reads /models.
USER 10001
EXPOSE 8080
# exec form: valle is PID 1 and gets SIGTERM itself (docker stop, Kubernetes): it stops accepting, finishes the
# requests in flight within --shutdown-timeout (keep it below the orchestrator's grace period) and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/opt/valle/valle.dll", "serve", "--host", "0.0.0.0", "--port", "8080"]
CMD ["--checkpoint", "/models/checkpoint.pt", "--symbols", "/models/unique_text_tokens.k2symbols", \
     "--codec-decoder", "/models/encodec_decoder.onnx", "--codec-encoder", "/models/encodec_encoder.onnx", \
     "--voices-dir", "/models/voices", "--shutdown-timeout", "25"]
