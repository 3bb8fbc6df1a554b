/*
 * valle.h: the C ABI of VallE.NET (VALL-E text to speech), libvalle.so.
 * Built by `./build.sh native` into artifacts/native/linux-x64/ (with libonnxruntime.so beside it).
 * Full contract, JSON fields and examples: docs/embedding.md.
 *
 * Return codes (the `valle` command's exit codes):
 *   VALLE_OK 0, VALLE_ERR_INTERNAL 1 (a bug), VALLE_ERR_USAGE 2 (NULL argument, malformed JSON, unknown or
 *   mistyped field, bad option value), VALLE_ERR_INPUT 3 (missing or bad file, unknown voice, text that cannot be
 *   spoken, missing native library: libespeak-ng, ONNX Runtime), VALLE_CANCELLED 130.
 *   After a non-zero return valle_last_error() says why, in one line.
 *
 * Threading: every function may be called from any thread. Calls on one engine are serialised (one synthesis at a
 * time per engine; concurrent valle_synthesize calls wait their turn and give what they would give one after
 * another). For parallel synthesis open several engines. valle_cancel may be called from any thread, including
 * from inside on_audio.
 *
 * Memory: the library owns every string it returns; the caller owns the JSON strings it passes (read during the
 * call only) and the engine until valle_engine_close. Sample buffers are valid during on_audio only.
 */
#ifndef VALLE_H
#define VALLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VALLE_OK 0
#define VALLE_ERR_INTERNAL 1
#define VALLE_ERR_USAGE 2
#define VALLE_ERR_INPUT 3
#define VALLE_CANCELLED 130

/* An opened model with its codec, symbol table and voices. Opaque. */
typedef struct valle_engine valle_engine;

/* Receives audio: `count` mono float samples in [-1, 1] at `sample_rate` Hz (24000), on the thread that called
 * valle_synthesize. Called once per sentence ("sentences": true) or once. The buffer is the library's and is valid
 * during the call only: copy what you keep. `user` is valle_synthesize's `user`. */
typedef void (*valle_audio_fn)(const float *samples, size_t count, int sample_rate, void *user);

/* Loads an engine from UTF-8 JSON options:
 *   {"checkpoint": "model.pt", "symbols": "unique_text_tokens.k2symbols", "codec_decoder": "encodec_decoder.onnx",
 *    "codec_encoder": "encodec_encoder.onnx", "device": "cpu"|"cuda"|"auto", "threads": 0,
 *    "voices": {"anna": {"wav": "anna.wav", "transcript": "..."}, "bob": {"codes": "bob.npy", "transcript": "..."}}}
 * VALL-E X checkpoints need no "symbols" and also take {"preset": "alan.npz"} voices and a transcript
 * "language" (en, zh, ja, auto) on wav/codes voices.
 * Slow (loads the model, encodes WAV voices). On success *out is the engine and 0 is returned; on failure *out is
 * NULL. `out` must not be NULL (rc 2). */
int valle_engine_open(const char *options_json, valle_engine **out);

/* Synthesises the UTF-8 JSON request
 *   {"text": "...", "voice": "anna", "sentences": false, "language": "en-us", "seed": 42, "top_k": 50,
 *    "top_p": 1.0, "temperature": 1.0, "max_duration": 20}
 * (VALL-E X: "language" en|zh|ja|mix|auto, "best_of": 1..64, "prompt_mode": "fixed"|"sliding")
 * calling on_audio with the audio. Blocks until done; returns 130 when valle_cancel (or valle_engine_close from
 * another thread) stopped it; the engine stays usable. */
int valle_synthesize(valle_engine *engine, const char *request_json, valle_audio_fn on_audio, void *user);

/* Cancels every valle_synthesize running or waiting on `engine` when it is called (they return 130 within one
 * model step); later calls are not affected. Any thread; NULL is a no-op. */
void valle_cancel(valle_engine *engine);

/* This thread's last error message (UTF-8, "" if the last valle_engine_open/valle_synthesize on this thread
 * succeeded or none was made). Owned by the library; valid until the next valle_engine_open/valle_synthesize on
 * this thread. Never NULL. */
const char *valle_last_error(void);

/* The library's version, e.g. "0.1.0". Static storage. */
const char *valle_version(void);

/* Cancels a synthesis in progress on another thread, waits for it to return, and frees the engine. NULL is a
 * no-op. The engine must not be used after this (nor closed twice). */
void valle_engine_close(valle_engine *engine);

#ifdef __cplusplus
}
#endif

#endif /* VALLE_H */
