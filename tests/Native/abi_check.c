/*
 * abi_check: the parts of libvalle's contract that a command line cannot reach (tests/Native/run.sh runs it).
 *
 *   abi_check OPTIONS_JSON_FILE
 *
 * Checks NULL arguments (rc 2, *out = NULL, NULL engine no-ops), the thread-local valle_last_error, valle_version,
 * concurrent valle_synthesize on one engine from two threads (both succeed and, with one seed, give the samples of
 * a call made alone: calls are serialised), a cancel before a call (not sticky), reuse after a failed call, and
 * valle_engine_close from another thread while a call runs.
 * Prints one line per check ("ok: ..." / "FAILED: ...") and exits 0 only if all pass.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valle.h"

static int failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                         \
        if (cond) { printf("ok: "); printf(__VA_ARGS__); printf("\n"); }         \
        else { failures++; printf("FAILED: "); printf(__VA_ARGS__);              \
               printf(" [last error: %s]\n", valle_last_error()); }              \
    } while (0)

typedef struct {
    float *samples;
    size_t count;
    int calls;
} audio;

static void collect(const float *samples, size_t count, int sample_rate, void *user)
{
    audio *a = user;
    float *grown = realloc(a->samples, (a->count + count) * sizeof(float));
    if (grown == NULL) abort();
    memcpy(grown + a->count, samples, count * sizeof(float));
    a->samples = grown;
    a->count += count;
    a->calls += sample_rate == 24000;
}

static const char *REQUEST = "{\"text\": \"Hello there.\", \"seed\": 7, \"max_duration\": 0.3}";

typedef struct {
    valle_engine *engine;
    audio out;
    int rc;
    char error[256];
} job;

static void *synthesize_thread(void *arg)
{
    job *j = arg;
    j->rc = valle_synthesize(j->engine, REQUEST, collect, &j->out);
    snprintf(j->error, sizeof j->error, "%s", valle_last_error());
    return NULL;
}

/* valle_engine_close from another thread while a sentence-by-sentence call runs on this one. */
typedef struct {
    valle_engine *engine;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int first_seen, closing, rc;
} close_race;

static void on_audio_then_wait_for_close(const float *samples, size_t count, int sample_rate, void *user)
{
    (void)samples; (void)count; (void)sample_rate;
    close_race *r = user;
    pthread_mutex_lock(&r->lock);
    if (!r->first_seen) {
        r->first_seen = 1;
        pthread_cond_broadcast(&r->changed);
        while (!r->closing) pthread_cond_wait(&r->changed, &r->lock);
    }
    pthread_mutex_unlock(&r->lock);
}

static void *synthesize_until_closed(void *arg)
{
    close_race *r = arg;
    r->rc = valle_synthesize(r->engine,
                             "{\"text\": \"One. Two. Three. Four.\", \"sentences\": true, \"seed\": 1, \"max_duration\": 0.3}",
                             on_audio_then_wait_for_close, r);
    return NULL;
}

static void *error_probe(void *arg)
{
    /* A thread that made no call sees "", whatever other threads did. */
    *(int *)arg = strcmp(valle_last_error(), "") == 0;
    return NULL;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) exit(2);
    text[size] = '\0';
    fclose(f);
    return text;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: abi_check OPTIONS_JSON_FILE\n"); return 2; }
    char *options = read_file(argv[1]);

    const char *version = valle_version();
    CHECK(version != NULL && strchr(version, '.') != NULL, "valle_version() = \"%s\"", version ? version : "(null)");
    CHECK(strcmp(valle_last_error(), "") == 0, "valle_last_error() is \"\" before any call");

    /* NULL arguments: rc 2, never a crash. */
    valle_engine *engine = (valle_engine *)&failures; /* garbage that open must overwrite */
    CHECK(valle_engine_open(NULL, &engine) == VALLE_ERR_USAGE && engine == NULL, "open(NULL options) = 2, *out = NULL");
    CHECK(strstr(valle_last_error(), "NULL") != NULL, "... and valle_last_error says so: %s", valle_last_error());
    CHECK(valle_engine_open(options, NULL) == VALLE_ERR_USAGE, "open(options, NULL out) = 2");
    audio none = {0};
    CHECK(valle_synthesize(NULL, REQUEST, collect, &none) == VALLE_ERR_USAGE, "synthesize(NULL engine) = 2");
    valle_cancel(NULL);
    valle_engine_close(NULL);
    CHECK(1, "cancel(NULL) and close(NULL) are no-ops");

    /* The last error is per thread. */
    int clean = 0;
    pthread_t probe;
    pthread_create(&probe, NULL, error_probe, &clean);
    pthread_join(probe, NULL);
    CHECK(clean && strcmp(valle_last_error(), "") != 0, "valle_last_error is thread-local (another thread sees \"\")");

    CHECK(valle_engine_open("{\"checkpoint\": 1", &engine) == VALLE_ERR_USAGE && engine == NULL, "open(malformed JSON) = 2");
    int rc = valle_engine_open(options, &engine);
    CHECK(rc == VALLE_OK && engine != NULL && strcmp(valle_last_error(), "") == 0, "open(fixtures) = 0 and clears the last error");
    if (rc != VALLE_OK) { free(options); return 1; }

    CHECK(valle_synthesize(engine, NULL, collect, &none) == VALLE_ERR_USAGE, "synthesize(NULL request) = 2");
    CHECK(valle_synthesize(engine, REQUEST, NULL, &none) == VALLE_ERR_USAGE, "synthesize(NULL on_audio) = 2");
    CHECK(valle_synthesize(engine, "{\"text\": \"Hi.\", \"voice\": \"nobody\"}", collect, &none) == VALLE_ERR_INPUT,
          "synthesize(unknown voice) = 3");
    CHECK(valle_synthesize(engine, "{\"text\": \"Hi.\", \"top_p\": 2}", collect, &none) == VALLE_ERR_USAGE,
          "synthesize(top_p 2) = 2");
    CHECK(none.calls == 0, "failed calls deliver no audio");

    /* A cancel with no call running is not sticky: the next call runs. */
    valle_cancel(engine);
    audio alone = {0};
    CHECK(valle_synthesize(engine, REQUEST, collect, &alone) == VALLE_OK && alone.calls == 1 && alone.count > 0,
          "synthesize after failed calls and an idle cancel = 0 (%zu samples, %d call)", alone.count, alone.calls);
    int in_range = 1;
    for (size_t i = 0; i < alone.count; i++) in_range &= alone.samples[i] >= -1.0f && alone.samples[i] <= 1.0f;
    CHECK(in_range, "samples are in [-1, 1]");

    /* Two threads on one engine: serialised, each gets what a call alone gets. */
    job jobs[2] = {{.engine = engine}, {.engine = engine}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, synthesize_thread, &jobs[i]);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < 2; i++)
        CHECK(jobs[i].rc == VALLE_OK && jobs[i].out.count == alone.count
                  && memcmp(jobs[i].out.samples, alone.samples, alone.count * sizeof(float)) == 0,
              "concurrent call %d on one engine = 0, same samples as alone (rc %d, %zu samples) %s", i, jobs[i].rc,
              jobs[i].out.count, jobs[i].error);

    /* Closing while another thread synthesises: the call stops (130) or was already finishing (0); no crash, no hang. */
    close_race race = {.engine = engine};
    pthread_mutex_init(&race.lock, NULL);
    pthread_cond_init(&race.changed, NULL);
    pthread_t synthesizer;
    pthread_create(&synthesizer, NULL, synthesize_until_closed, &race);
    pthread_mutex_lock(&race.lock);
    while (!race.first_seen) pthread_cond_wait(&race.changed, &race.lock);
    race.closing = 1;                       /* lets the first on_audio return: the call goes on to sentence 2 */
    pthread_cond_broadcast(&race.changed);
    pthread_mutex_unlock(&race.lock);
    valle_engine_close(engine);             /* cancels it and waits for it to leave the engine */
    pthread_join(synthesizer, NULL);
    CHECK(race.rc == VALLE_CANCELLED || race.rc == VALLE_OK,
          "close from another thread during a sentence-by-sentence call: the call returns %d (130 = stopped, 0 = had finished)", race.rc);
    pthread_cond_destroy(&race.changed);
    pthread_mutex_destroy(&race.lock);

    for (int i = 0; i < 2; i++) free(jobs[i].out.samples);
    free(alone.samples);
    free(options);
    printf("%s\n", failures == 0 ? "abi_check: all passed" : "abi_check: FAILED");
    return failures == 0 ? 0 : 1;
}
