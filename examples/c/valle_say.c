/*
 * valle_say: speak a text with libvalle (the VallE.NET C ABI) and write a 16-bit WAV.
 *
 *   valle_say [-o OUT.wav] [--voice NAME] [--seed N] [--max-duration S] [--sentences]
 *             [--cancel-after-first] OPTIONS TEXT
 *   valle_say [-o OUT.wav] [--cancel-after-first] --request JSON OPTIONS
 *
 * OPTIONS is the engine options JSON, inline ('{...}') or the path of a file holding it. TEXT is the text to speak;
 * --request passes a complete request JSON instead. --cancel-after-first shows valle_cancel from another thread:
 * the first sentence's audio wakes a second thread, which cancels the call (valle_synthesize returns 130).
 * The exit status is the library's return code (0, 1, 2, 3, 130); errors are printed from valle_last_error().
 *
 * Build (docs/embedding.md):
 *   cc -Wall -Werror -O2 -I include examples/c/valle_say.c -o valle_say \
 *      -L artifacts/native/linux-x64 -lvalle -Wl,-rpath,"$PWD/artifacts/native/linux-x64" -lpthread
 *   (or: make -C examples/c)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valle.h"

/* ---- audio collected from on_audio ---- */

typedef struct {
    float *samples;
    size_t count, capacity;
    int sample_rate;
    int sentences;
    /* --cancel-after-first */
    int cancel_demo;
    valle_engine *engine;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int first_sentence_seen, cancel_done;
} collected;

static void on_audio(const float *samples, size_t count, int sample_rate, void *user)
{
    collected *c = user;
    /* The buffer is valid during this call only: copy it. */
    if (c->count + count > c->capacity) {
        size_t capacity = (c->count + count) * 2;
        float *grown = realloc(c->samples, capacity * sizeof(float));
        if (grown == NULL) return; /* out of memory: the WAV will be short; the demo keeps going */
        c->samples = grown;
        c->capacity = capacity;
    }
    memcpy(c->samples + c->count, samples, count * sizeof(float));
    c->count += count;
    c->sample_rate = sample_rate;
    c->sentences++;
    fprintf(stderr, "valle_say: sentence %d: %zu samples\n", c->sentences, count);

    if (c->cancel_demo && c->sentences == 1) {
        /* Wake the canceller and wait until it has called valle_cancel: the next sentence is then cancelled. */
        pthread_mutex_lock(&c->lock);
        c->first_sentence_seen = 1;
        pthread_cond_broadcast(&c->changed);
        while (!c->cancel_done) pthread_cond_wait(&c->changed, &c->lock);
        pthread_mutex_unlock(&c->lock);
    }
}

static void *canceller(void *arg)
{
    collected *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->first_sentence_seen) pthread_cond_wait(&c->changed, &c->lock);
    pthread_mutex_unlock(&c->lock);

    valle_cancel(c->engine); /* from this thread, while valle_synthesize runs on the main thread */
    fprintf(stderr, "valle_say: cancel requested from a second thread\n");

    pthread_mutex_lock(&c->lock);
    c->cancel_done = 1;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ---- small helpers ---- */

static void put_u32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
    fwrite(b, 1, 4, f);
}

static void put_u16(FILE *f, uint16_t v)
{
    unsigned char b[2] = {v & 0xff, (v >> 8) & 0xff};
    fwrite(b, 1, 2, f);
}

static int write_wav(const char *path, const float *samples, size_t count, int rate)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) { perror(path); return -1; }
    uint32_t data = (uint32_t)(count * 2);
    fwrite("RIFF", 1, 4, f); put_u32(f, 36 + data); fwrite("WAVE", 1, 4, f);
    fwrite("fmt ", 1, 4, f); put_u32(f, 16); put_u16(f, 1); put_u16(f, 1);
    put_u32(f, (uint32_t)rate); put_u32(f, (uint32_t)rate * 2); put_u16(f, 2); put_u16(f, 16);
    fwrite("data", 1, 4, f); put_u32(f, data);
    for (size_t i = 0; i < count; i++) {
        float s = samples[i] * 32768.0f;
        if (s > 32767.0f) s = 32767.0f;
        if (s < -32768.0f) s = -32768.0f;
        put_u16(f, (uint16_t)(int16_t)s);
    }
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) { perror(path); return -1; }
    return 0;
}

/* The whole file, NUL-terminated; NULL on error. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) { perror(path); return NULL; }
    size_t size = 0, capacity = 4096;
    char *text = malloc(capacity);
    size_t n;
    while (text != NULL && (n = fread(text + size, 1, capacity - size - 1, f)) > 0) {
        size += n;
        if (capacity - size - 1 == 0) {
            char *grown = realloc(text, capacity *= 2);
            if (grown == NULL) { free(text); text = NULL; }
            else text = grown;
        }
    }
    fclose(f);
    if (text != NULL) text[size] = '\0';
    return text;
}

/* Appends `s` to `out` as a JSON string literal (quotes included). `out` must hold 6 * strlen(s) + 3 bytes. */
static char *json_string(char *out, const char *s)
{
    *out++ = '"';
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') { *out++ = '\\'; *out++ = (char)ch; }
        else if (ch < 0x20) out += sprintf(out, "\\u%04x", ch);
        else *out++ = (char)ch;
    }
    *out++ = '"';
    *out = '\0';
    return out;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: valle_say [-o OUT.wav] [--voice NAME] [--seed N] [--max-duration S] [--sentences]\n"
            "                 [--cancel-after-first] OPTIONS TEXT\n"
            "       valle_say [-o OUT.wav] [--cancel-after-first] --request JSON OPTIONS\n"
            "OPTIONS: engine options JSON, inline ('{...}') or a file. libvalle %s\n",
            valle_version());
    return 2;
}

int main(int argc, char **argv)
{
    const char *out = "valle_say.wav", *voice = NULL, *seed = NULL, *max_duration = NULL, *request_arg = NULL;
    int sentences = 0, cancel_demo = 0;
    const char *positional[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(a, "--voice") == 0 && i + 1 < argc) voice = argv[++i];
        else if (strcmp(a, "--seed") == 0 && i + 1 < argc) seed = argv[++i];
        else if (strcmp(a, "--max-duration") == 0 && i + 1 < argc) max_duration = argv[++i];
        else if (strcmp(a, "--request") == 0 && i + 1 < argc) request_arg = argv[++i];
        else if (strcmp(a, "--sentences") == 0) sentences = 1;
        else if (strcmp(a, "--cancel-after-first") == 0) cancel_demo = 1;
        else if (a[0] == '-' && a[1] != '\0') return usage();
        else if (npos < 2) positional[npos++] = a;
        else return usage();
    }
    if (npos != (request_arg != NULL ? 1 : 2)) return usage();

    /* Engine options: inline JSON or a file. */
    char *options = positional[0][0] == '{' ? strdup(positional[0]) : read_file(positional[0]);
    if (options == NULL) return 3;

    /* The request: as given, or built from the flags (numbers are passed through as written). */
    char *request;
    if (request_arg != NULL) {
        request = strdup(request_arg);
    } else {
        const char *text = positional[1];
        size_t size = 6 * strlen(text) + (voice ? 6 * strlen(voice) : 0) + 256
                      + (seed ? strlen(seed) : 0) + (max_duration ? strlen(max_duration) : 0);
        request = malloc(size);
        if (request == NULL) { free(options); return 1; }
        char *p = request + sprintf(request, "{\"text\": ");
        p = json_string(p, text);
        if (voice) { p += sprintf(p, ", \"voice\": "); p = json_string(p, voice); }
        if (seed) p += sprintf(p, ", \"seed\": %s", seed);
        if (max_duration) p += sprintf(p, ", \"max_duration\": %s", max_duration);
        if (sentences || cancel_demo) p += sprintf(p, ", \"sentences\": true");
        sprintf(p, "}");
    }

    valle_engine *engine = NULL;
    int rc = valle_engine_open(options, &engine);
    free(options);
    if (rc != VALLE_OK) {
        fprintf(stderr, "valle_say: cannot open the engine (rc %d): %s\n", rc, valle_last_error());
        free(request);
        return rc;
    }

    collected c = {0};
    c.cancel_demo = cancel_demo;
    c.engine = engine;
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.changed, NULL);
    pthread_t thread;
    if (cancel_demo && pthread_create(&thread, NULL, canceller, &c) != 0) {
        fprintf(stderr, "valle_say: cannot start the cancel thread\n");
        valle_engine_close(engine);
        free(request);
        return 1;
    }

    rc = valle_synthesize(engine, request, on_audio, &c);
    if (rc != VALLE_OK) fprintf(stderr, "valle_say: synthesis failed (rc %d): %s\n", rc, valle_last_error());

    if (cancel_demo) {
        if (!c.first_sentence_seen) {
            /* No sentence came (an error before the first one): release the canceller anyway. */
            pthread_mutex_lock(&c.lock);
            c.first_sentence_seen = 1;
            pthread_cond_broadcast(&c.changed);
            pthread_mutex_unlock(&c.lock);
        }
        pthread_join(thread, NULL);
        if (rc == VALLE_CANCELLED) fprintf(stderr, "valle_say: cancelled after %d sentence(s), as asked\n", c.sentences);
    }

    if (rc == VALLE_OK && write_wav(out, c.samples, c.count, c.sample_rate) == 0)
        fprintf(stderr, "valle_say: %s: %zu samples at %d Hz (%.2f s, %d sentence(s))\n", out, c.count, c.sample_rate,
                c.sample_rate > 0 ? (double)c.count / c.sample_rate : 0.0, c.sentences);
    else if (rc == VALLE_OK)
        rc = 3;

    valle_engine_close(engine);
    pthread_cond_destroy(&c.changed);
    pthread_mutex_destroy(&c.lock);
    free(c.samples);
    free(request);
    return rc;
}
