/*
 * Optional compiled parts of framing, for speed; framing works without them
 * (framing/runtime/_native.py decides, FRAMING_NO_SPEEDUPS turns them off) and gives the
 * same results.  What it holds:
 *
 * - unit_scores, word_scores, feature_scores: the per-sentence sums of TF-IDF +
 *   linear scoring for framing.runtime.tfidf_scoring (numpy needs a sort for what one
 *   counting pass per sentence does here);
 * - WordTable: the word cache of framing.runtime.compiled, words -> ids in order of
 *   first appearance (its own hash table);
 * - article_json: the JSON of tagged articles for framing.output.json.tag_json_lines
 *   (its own string escaping, float and integer formatting);
 * - configure_segmenter, sentence_spans: the common candidate boundaries of
 *   framing.runtime.segment, settled without calling back into Python.  The rules are
 *   the ones of segment.py; tests/test_segment.py compares both on every edge case.
 *
 * Global state, all of it written once at import and read-only afterwards: the table
 * of 1 + log(count) (filled by the module init) and the segmenter's character classes
 * and pattern matchers (set by configure_segmenter, called by segment.py at import).
 *
 * It is built when a C compiler is available at install time.  Arrays come in
 * through the buffer protocol, so building needs no numpy headers.  The Python side
 * checks dtypes and shapes; this side checks every index it follows, so bad
 * arrays raise ValueError instead of reading out of bounds.  .ci/sanitize runs the
 * tests against a build with AddressSanitizer and UndefinedBehaviorSanitizer.
 *
 * Term frequency modes: 0 raw count, 1 binary, 2 sublinear (1 + log(count)).
 * Norm modes: 0 none, 1 l1, 2 l2 (sq receives the sum of squares).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { TF_RAW = 0, TF_BINARY = 1, TF_SUBLINEAR = 2 };
enum { NORM_NONE = 0, NORM_L1 = 1, NORM_L2 = 2 };

/* 1 + log(c) for small counts, filled at import (log is the costly step of a correction). */
#define LOG_TABLE 256
static double sublinear[LOG_TABLE];

static double
term_frequency(int mode, int32_t count)
{
    if (mode == TF_BINARY)
        return 1.0;
    if (mode == TF_SUBLINEAR)
        return count < LOG_TABLE ? sublinear[count] : 1.0 + log((double)count);
    return (double)count;
}

/* The loops wait mostly on memory: coefficient rows, unit data and hash slots are
 * scattered over megabytes that the rest of the tagging pipeline keeps evicting from
 * the caches.  Each loop first asks for everything a document will touch, so the
 * fetches overlap instead of queueing one after another. */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(addr) __builtin_prefetch(addr)
#else
#define PREFETCH(addr) ((void)0)
#endif

static void
prefetch_span(const void *start, Py_ssize_t bytes)
{
    const char *p = start;
    for (Py_ssize_t k = 0; k < bytes; k += 64)
        PREFETCH(p + k);
}

typedef struct {
    Py_buffer view;
    int held;
} Buf;

static int
get_buf(PyObject *obj, Buf *b, int writable, Py_ssize_t itemsize, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0)
        return -1;
    b->held = 1;
    if (b->view.itemsize != itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: items of %zd bytes, expected %zd", name,
                     b->view.itemsize, itemsize);
        return -1;
    }
    return 0;
}

static void
release(Buf *bufs, int n)
{
    for (int i = 0; i < n; i++)
        if (bufs[i].held)
            PyBuffer_Release(&bufs[i].view);
}

#define LEN(b) ((b).view.len / (b).view.itemsize)

/* doc_ptr (n_docs + 1 entries) must run from 0 to n_items without decreasing. */
static int
check_doc_ptr(const int64_t *doc_ptr, Py_ssize_t n_docs, Py_ssize_t n_items, const char *fn)
{
    int ok = n_docs >= 0 && doc_ptr[0] == 0 && doc_ptr[n_docs] == n_items;
    for (Py_ssize_t d = 0; ok && d < n_docs; d++)
        ok = doc_ptr[d + 1] >= doc_ptr[d];
    if (!ok)
        PyErr_Format(PyExc_ValueError, "%s: doc_ptr must run from 0 to %zd without decreasing",
                     fn, n_items);
    return ok ? 0 : -1;
}

/* A zeroed count per feature and a list of feature ids, for one document at a time. */
static int
alloc_counts(Py_ssize_t n_features, int32_t **counts, int32_t **list)
{
    *counts = calloc(n_features ? n_features : 1, sizeof(int32_t));
    *list = malloc((n_features ? n_features : 1) * sizeof(int32_t));
    if (*counts && *list)
        return 0;
    PyErr_NoMemory();
    return -1;
}

/*
 * The shared core.  For each document, `counts` holds how often each feature
 * occurred (touched features are listed in `touched` and reset afterwards).
 * With `naive` set, out/sq already hold the sums that treat every occurrence
 * as tf 1, and only features seen more than once are corrected; otherwise
 * every feature is added with its tf.
 */
static void
finish_document(const int32_t *touched, Py_ssize_t n_touched, int32_t *counts,
                const double *rows, const double *normw, Py_ssize_t width, int tf_mode,
                int norm_mode, int naive, double *out, double *sq)
{
    for (Py_ssize_t t = 0; t < n_touched; t++)
        prefetch_span(rows + (Py_ssize_t)touched[t] * width, width * (Py_ssize_t)sizeof(double));
    for (Py_ssize_t t = 0; t < n_touched; t++) {
        int32_t f = touched[t];
        int32_t count = counts[f];
        counts[f] = 0;
        if (naive && count == 1)
            continue;
        double c = (double)count;
        double tf = term_frequency(tf_mode, count);
        double w = naive ? tf - c : tf;
        if (w != 0.0) {
            const double *row = rows + (Py_ssize_t)f * width;
            for (Py_ssize_t j = 0; j < width; j++)
                out[j] += w * row[j];
        }
        if (norm_mode == NORM_L2)
            *sq += (naive ? tf * tf - c : tf * tf) * normw[f];
        else if (norm_mode == NORM_L1)
            *sq += w * normw[f];
    }
}

PyDoc_STRVAR(unit_scores_doc,
"unit_scores(doc_ptr, uids, unit_start, unit_length, unit_feats, unit_rows, unit_norm,\n"
"            rows, normw, tf_mode, norm_mode, out, sq)\n"
"\n"
"Scores documents given as units (words) whose features are cached.\n"
"\n"
"doc_ptr (int64, n+1) delimits each document's entries of uids (int32).  A unit u\n"
"has features unit_feats[unit_start[u]:unit_start[u] + unit_length[u]] (int64),\n"
"naive score row unit_rows[u] (float64, width) and naive norm term unit_norm[u].\n"
"rows (float64, n_features x width) and normw (float64, n_features) are per\n"
"feature.  Adds into out (float64, n x width) and sq (float64, n).");

static PyObject *
unit_scores(PyObject *self, PyObject *args)
{
    PyObject *o[11];
    int tf_mode, norm_mode;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOiiOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &tf_mode, &norm_mode, &o[9], &o[10]))
        return NULL;
    Buf b[11];
    memset(b, 0, sizeof b);
    static const char *names[11] = {"doc_ptr", "uids", "unit_start", "unit_length",
                                    "unit_feats", "unit_rows", "unit_norm", "rows",
                                    "normw", "out", "sq"};
    static const Py_ssize_t sizes[11] = {8, 4, 8, 8, 4, 8, 8, 8, 8, 8, 8};
    PyObject *result = NULL;
    int32_t *counts = NULL, *repeated = NULL;
    for (int i = 0; i < 11; i++)
        if (get_buf(o[i], &b[i], i >= 9, sizes[i], names[i]) < 0)
            goto done;

    const int64_t *doc_ptr = b[0].view.buf;
    const int32_t *uids = b[1].view.buf;
    const int64_t *ustart = b[2].view.buf, *ulen = b[3].view.buf;
    const int32_t *ufeats = b[4].view.buf;
    const double *urows = b[5].view.buf, *unorm = b[6].view.buf;
    const double *rows = b[7].view.buf, *normw = b[8].view.buf;
    double *out = b[9].view.buf, *sq = b[10].view.buf;
    Py_ssize_t n_docs = LEN(b[0]) - 1, n_uids = LEN(b[1]), n_units = LEN(b[2]);
    Py_ssize_t n_flat = LEN(b[4]), n_features = LEN(b[8]);
    Py_ssize_t width = n_features ? LEN(b[7]) / n_features : 0;
    if (n_docs < 0 || LEN(b[3]) != n_units || LEN(b[6]) != n_units ||
        LEN(b[5]) != n_units * width || LEN(b[7]) != n_features * width ||
        LEN(b[9]) != n_docs * width || LEN(b[10]) != n_docs) {
        PyErr_SetString(PyExc_ValueError, "unit_scores: inconsistent array sizes");
        goto done;
    }
    int correct = tf_mode != TF_RAW || norm_mode == NORM_L2;
    /* Validate every index before the loop that trusts them. */
    if (check_doc_ptr(doc_ptr, n_docs, n_uids, "unit_scores") < 0)
        goto done;
    for (Py_ssize_t k = 0; k < n_uids; k++)
        if (uids[k] < 0 || uids[k] >= n_units) {
            PyErr_SetString(PyExc_ValueError, "unit_scores: unit id out of range");
            goto done;
        }
    if (correct && alloc_counts(n_features, &counts, &repeated) < 0)
        goto done;

    /* Unit features are checked as they are used (the cache is far larger than a batch). */
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        double *o_row = out + d * width;
        Py_ssize_t n_repeated = 0;
        for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; k++) {
            int32_t u = uids[k];
            prefetch_span(urows + (Py_ssize_t)u * width, width * (Py_ssize_t)sizeof(double));
            if (correct && ustart[u] >= 0 && ustart[u] < n_flat)
                prefetch_span(ufeats + ustart[u], ulen[u] * (Py_ssize_t)sizeof(int32_t));
        }
        for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; k++) {
            int32_t u = uids[k];
            const double *r = urows + (Py_ssize_t)u * width;
            for (Py_ssize_t j = 0; j < width; j++)
                o_row[j] += r[j];
            sq[d] += unorm[u];
            if (!correct)
                continue;
            if (ustart[u] < 0 || ulen[u] < 0 || ustart[u] + ulen[u] > n_flat) {
                bad = 1;
                break;
            }
            /* Branch-free counting: a feature is listed when its count reaches 2. */
            const int32_t *f = ufeats + ustart[u], *end = f + ulen[u];
            for (; f < end; f++) {
                int32_t id = *f;
                if (id < 0 || id >= n_features) {
                    bad = 1;
                    break;
                }
                repeated[n_repeated] = (int32_t)id;
                n_repeated += ++counts[id] == 2;
            }
            if (bad)
                break;
        }
        if (bad)
            break;
        if (correct) {
            finish_document(repeated, n_repeated, counts, rows, normw, width, tf_mode,
                            norm_mode, 1, o_row, sq + d);
            for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; k++) {
                int32_t u = uids[k];
                const int32_t *f = ufeats + ustart[u], *end = f + ulen[u];
                for (; f < end; f++)
                    counts[*f] = 0;
            }
        }
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "unit_scores: unit features out of range");
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(counts);
    free(repeated);
    release(b, 11);
    return result;
}

PyDoc_STRVAR(feature_scores_doc,
"feature_scores(doc_ptr, feats, rows, normw, tf_mode, norm_mode, out, sq)\n"
"\n"
"Scores documents given as feature occurrences: doc_ptr (int64, n+1) delimits\n"
"each document's entries of feats (int64, any order, repeats allowed).  Adds\n"
"into out (float64, n x width) and sq (float64, n).");

static PyObject *
feature_scores(PyObject *self, PyObject *args)
{
    PyObject *o[6];
    int tf_mode, norm_mode;
    if (!PyArg_ParseTuple(args, "OOOOiiOO", &o[0], &o[1], &o[2], &o[3], &tf_mode, &norm_mode,
                          &o[4], &o[5]))
        return NULL;
    Buf b[6];
    memset(b, 0, sizeof b);
    static const char *names[6] = {"doc_ptr", "feats", "rows", "normw", "out", "sq"};
    PyObject *result = NULL;
    int32_t *counts = NULL, *touched = NULL;
    for (int i = 0; i < 6; i++)
        if (get_buf(o[i], &b[i], i >= 4, 8, names[i]) < 0)
            goto done;
    const int64_t *doc_ptr = b[0].view.buf, *feats = b[1].view.buf;
    const double *rows = b[2].view.buf, *normw = b[3].view.buf;
    double *out = b[4].view.buf, *sq = b[5].view.buf;
    Py_ssize_t n_docs = LEN(b[0]) - 1, n_occ = LEN(b[1]), n_features = LEN(b[3]);
    Py_ssize_t width = n_features ? LEN(b[2]) / n_features : 0;
    if (n_docs < 0 || LEN(b[2]) != n_features * width || LEN(b[4]) != n_docs * width ||
        LEN(b[5]) != n_docs) {
        PyErr_SetString(PyExc_ValueError, "feature_scores: inconsistent array sizes");
        goto done;
    }
    if (check_doc_ptr(doc_ptr, n_docs, n_occ, "feature_scores") < 0)
        goto done;
    for (Py_ssize_t k = 0; k < n_occ; k++)
        if (feats[k] < 0 || feats[k] >= n_features) {
            PyErr_SetString(PyExc_ValueError, "feature_scores: feature id out of range");
            goto done;
        }
    if (alloc_counts(n_features, &counts, &touched) < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        Py_ssize_t n_touched = 0;
        for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; k++)
            if (counts[feats[k]]++ == 0)
                touched[n_touched++] = (int32_t)feats[k];
        finish_document(touched, n_touched, counts, rows, normw, width, tf_mode, norm_mode, 0,
                        out + d * width, sq + d);
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    free(counts);
    free(touched);
    release(b, 6);
    return result;
}

PyDoc_STRVAR(word_scores_doc,
"word_scores(doc_ptr, uids, unit_start, unit_length, unit_tokens, unigram,\n"
"            table_keys, table_values, probes, shift, size, min_n, max_n,\n"
"            rows, normw, tf_mode, norm_mode, out, sq)\n"
"\n"
"Scores documents by word unigrams and bigrams.  A unit u has token ids\n"
"unit_tokens[unit_start[u]:unit_start[u] + unit_length[u]] (int64, -1 for a token\n"
"outside the vocabulary); tokens follow each other across the units of a\n"
"document.  unigram[t] is the feature of token t or -1; a bigram (a, b) is the\n"
"key a * size + b of the open-addressing table (table_keys/table_values, -1 for\n"
"an empty slot), hashed as in framing.runtime.compiled._IntTable.  Adds into out and sq.");

static PyObject *
word_scores(PyObject *self, PyObject *args)
{
    PyObject *o[12];
    int probes, shift, min_n, max_n, tf_mode, norm_mode;
    long long size;
    if (!PyArg_ParseTuple(args, "OOOOOOOOiiLiiOOiiOO", &o[0], &o[1], &o[2], &o[3], &o[4],
                          &o[5], &o[6], &o[7], &probes, &shift, &size, &min_n, &max_n, &o[8],
                          &o[9], &tf_mode, &norm_mode, &o[10], &o[11]))
        return NULL;
    Buf b[12];
    memset(b, 0, sizeof b);
    static const char *names[12] = {"doc_ptr", "uids", "unit_start", "unit_length",
                                    "unit_tokens", "unigram", "table_keys", "table_values",
                                    "rows", "normw", "out", "sq"};
    static const Py_ssize_t sizes[12] = {8, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
    PyObject *result = NULL;
    int32_t *counts = NULL, *touched = NULL;
    int64_t *occ = NULL, *tok = NULL, *keys = NULL;
    uint64_t *homes = NULL;
    for (int i = 0; i < 12; i++)
        if (get_buf(o[i], &b[i], i >= 10, sizes[i], names[i]) < 0)
            goto done;
    const int64_t *doc_ptr = b[0].view.buf;
    const int32_t *uids = b[1].view.buf;
    const int64_t *ustart = b[2].view.buf, *ulen = b[3].view.buf, *utok = b[4].view.buf;
    const int64_t *unigram = b[5].view.buf, *tkeys = b[6].view.buf, *tvals = b[7].view.buf;
    const double *rows = b[8].view.buf, *normw = b[9].view.buf;
    double *out = b[10].view.buf, *sq = b[11].view.buf;
    Py_ssize_t n_docs = LEN(b[0]) - 1, n_uids = LEN(b[1]), n_units = LEN(b[2]);
    Py_ssize_t n_flat = LEN(b[4]), n_tokens = LEN(b[5]), n_slots = LEN(b[6]);
    Py_ssize_t n_features = LEN(b[9]);
    Py_ssize_t width = n_features ? LEN(b[8]) / n_features : 0;
    int unigrams = min_n <= 1, bigrams = min_n <= 2 && max_n >= 2 && n_slots > 0;
    if (n_docs < 0 || LEN(b[3]) != n_units || LEN(b[7]) != n_slots ||
        (n_slots & (n_slots - 1)) != 0 || shift < 1 || shift > 63 || probes < 0 ||
        LEN(b[8]) != n_features * width || LEN(b[10]) != n_docs * width ||
        LEN(b[11]) != n_docs || max_n > 2) {
        PyErr_SetString(PyExc_ValueError, "word_scores: inconsistent arguments");
        goto done;
    }
    if (check_doc_ptr(doc_ptr, n_docs, n_uids, "word_scores") < 0)
        goto done;
    Py_ssize_t longest = 0;
    for (Py_ssize_t k = 0; k < n_uids; k++) {
        int32_t u = uids[k];
        if (u < 0 || u >= n_units || ustart[u] < 0 || ulen[u] < 0 ||
            ustart[u] + ulen[u] > n_flat) {
            PyErr_SetString(PyExc_ValueError, "word_scores: unit id out of range");
            goto done;
        }
    }
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        Py_ssize_t tokens = 0;
        for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; k++)
            tokens += ulen[uids[k]];
        if (tokens > longest)
            longest = tokens;
    }
    if (alloc_counts(n_features, &counts, &touched) < 0)
        goto done;
    occ = malloc((2 * longest + 1) * sizeof(int64_t));
    tok = malloc((longest + 1) * sizeof(int64_t));
    keys = malloc((longest + 1) * sizeof(int64_t));
    homes = malloc((longest + 1) * sizeof(uint64_t));
    if (!occ || !tok || !keys || !homes) {
        PyErr_NoMemory();
        goto done;
    }
    const uint64_t mult = 0x9E3779B97F4A7C15ULL;
    const uint64_t mask = (uint64_t)n_slots - 1;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n_docs && !bad; d++) {
        /* The document's tokens, their bigram keys and hash slots; fetches first. */
        Py_ssize_t n_tok = 0;
        for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; k++) {
            int32_t u = uids[k];
            for (int64_t j = ustart[u]; j < ustart[u] + ulen[u]; j++) {
                int64_t t = utok[j];
                if (t < -1 || t >= n_tokens)
                    bad = 1;
                tok[n_tok++] = t;
            }
        }
        if (bad)
            break;
        for (Py_ssize_t i = 0; i < n_tok; i++) {
            int64_t t = tok[i];
            if (t >= 0 && unigrams)
                PREFETCH(unigram + t);
            if (t >= 0 && i > 0 && tok[i - 1] >= 0 && bigrams) {
                keys[i] = tok[i - 1] * size + t;
                homes[i] = ((uint64_t)keys[i] * mult) >> shift;
                PREFETCH(tkeys + (homes[i] & mask));
            }
            else
                keys[i] = -1;
        }
        Py_ssize_t n_occ = 0;
        for (Py_ssize_t i = 0; i < n_tok; i++) {
            int64_t t = tok[i];
            if (t >= 0 && unigrams && unigram[t] >= 0)
                occ[n_occ++] = unigram[t];
            if (keys[i] >= 0) {
                for (int p = 0; p < probes; p++) {
                    uint64_t pos = (homes[i] + (uint64_t)p) & mask;
                    if (tkeys[pos] == keys[i]) {
                        occ[n_occ++] = tvals[pos];
                        break;
                    }
                    if (tkeys[pos] == -1)
                        break;
                }
            }
        }
        Py_ssize_t n_touched = 0;
        for (Py_ssize_t k = 0; k < n_occ; k++) {
            int64_t f = occ[k];
            if (f < 0 || f >= n_features) {
                bad = 1;
                break;
            }
            if (counts[f]++ == 0)
                touched[n_touched++] = (int32_t)f;
        }
        finish_document(touched, n_touched, counts, rows, normw, width, tf_mode, norm_mode, 0,
                        out + d * width, sq + d);
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "word_scores: token or feature id out of range");
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(counts);
    free(touched);
    free(occ);
    free(tok);
    free(keys);
    free(homes);
    release(b, 12);
    return result;
}

/* ------------------------------------------------------------------ JSON lines */

typedef struct {
    char *data;
    Py_ssize_t size, capacity;
} Text;

static int
text_reserve(Text *t, Py_ssize_t more)
{
    if (t->size + more <= t->capacity)
        return 0;
    Py_ssize_t capacity = t->capacity ? 2 * t->capacity : 1 << 16;
    while (capacity < t->size + more)
        capacity *= 2;
    char *data = PyMem_Realloc(t->data, capacity);
    if (!data) {
        PyErr_NoMemory();
        return -1;
    }
    t->data = data;
    t->capacity = capacity;
    return 0;
}

static int
text_add(Text *t, const char *s, Py_ssize_t n)
{
    if (text_reserve(t, n) < 0)
        return -1;
    memcpy(t->data + t->size, s, n);
    t->size += n;
    return 0;
}

/* ("" lit "") only compiles for a string literal, whose sizeof is its length + 1. */
#define TEXT_LIT(t, lit) text_add((t), ("" lit ""), (Py_ssize_t)(sizeof("" lit "") - 1))

static int
text_str(Text *t, PyObject *s)
{
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(s, &n);
    return utf8 ? text_add(t, utf8, n) : -1;
}

static int
text_int(Text *t, long long v)
{
    char buf[24], *end = buf + sizeof buf, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return text_add(t, p, end - p);
}

/* The JSON escape of a quote, backslash or control character. */
static char *
escape_char(char *out, Py_UCS4 c)
{
    static const char hex[] = "0123456789abcdef";
    *out++ = '\\';
    switch (c) {
    case '"': *out++ = '"'; break;
    case '\\': *out++ = '\\'; break;
    case '\b': *out++ = 'b'; break;
    case '\f': *out++ = 'f'; break;
    case '\n': *out++ = 'n'; break;
    case '\r': *out++ = 'r'; break;
    case '\t': *out++ = 't'; break;
    default:
        *out++ = 'u';
        *out++ = '0';
        *out++ = '0';
        *out++ = hex[(c >> 4) & 0xF];
        *out++ = hex[c & 0xF];
    }
    return out;
}

/* A str as JSON, as json.dumps(s, ensure_ascii=False) writes it, in UTF-8. */
static int
text_json_str(Text *t, PyObject *s)
{
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    /* At most 6 bytes per character (\u00XX), plus the quotes. */
    if (text_reserve(t, 6 * n + 2) < 0)
        return -1;
    char *out = t->data + t->size;
    *out++ = '"';
    if (PyUnicode_IS_ASCII(s)) {
        /* Copy runs that need no escape in one go. */
        const unsigned char *p = data, *end = p + n;
        while (p < end) {
            const unsigned char *run = p;
            while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
                p++;
            memcpy(out, run, p - run);
            out += p - run;
            if (p == end)
                break;
            out = escape_char(out, *p++);
        }
        *out++ = '"';
        t->size = out - t->data;
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0x20 && c != '"' && c != '\\') {
            if (c < 0x80)
                *out++ = (char)c;
            else if (c < 0x800) {
                *out++ = (char)(0xC0 | (c >> 6));
                *out++ = (char)(0x80 | (c & 0x3F));
            }
            else if (c < 0x10000) {
                if (c >= 0xD800 && c <= 0xDFFF) {
                    PyErr_SetString(PyExc_ValueError,
                                    "a text holds a lone surrogate, which UTF-8 cannot encode");
                    return -1;
                }
                *out++ = (char)(0xE0 | (c >> 12));
                *out++ = (char)(0x80 | ((c >> 6) & 0x3F));
                *out++ = (char)(0x80 | (c & 0x3F));
            }
            else {
                *out++ = (char)(0xF0 | (c >> 18));
                *out++ = (char)(0x80 | ((c >> 12) & 0x3F));
                *out++ = (char)(0x80 | ((c >> 6) & 0x3F));
                *out++ = (char)(0x80 | (c & 0x3F));
            }
            continue;
        }
        out = escape_char(out, c);
    }
    *out++ = '"';
    t->size = out - t->data;
    return 0;
}

/* Shortest round-trip digits are costly, and the same scores come back (a
 * sentence's label score again as evidence and maximum, shares like 0.25), so
 * the writer remembers recent ones: a direct-mapped cache on the value's bits. */
#define FLOAT_CACHE 1024
typedef struct {
    uint64_t bits[FLOAT_CACHE];
    char text[FLOAT_CACHE][32];
    unsigned char len[FLOAT_CACHE]; /* 0: empty */
} FloatCache;

/* A float exactly as repr() writes it (the caller checked it is finite). */
static int
text_float(Text *t, double v, FloatCache *cache)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    size_t slot = (size_t)((bits * 0x9E3779B97F4A7C15ULL) >> 54); /* top 10 bits */
    if (cache->len[slot] && cache->bits[slot] == bits)
        return text_add(t, cache->text[slot], cache->len[slot]);
    char *repr = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!repr)
        return -1;
    size_t len = strlen(repr);
    int rc = text_add(t, repr, (Py_ssize_t)len);
    if (len < sizeof cache->text[0]) {
        memcpy(cache->text[slot], repr, len);
        cache->len[slot] = (unsigned char)len;
        cache->bits[slot] = bits;
    }
    PyMem_Free(repr);
    return rc;
}

#define N_DIM_ARRAYS 12
typedef struct {
    PyObject *key;    /* the dimension id, JSON-encoded */
    PyObject *labels; /* list of the label ids, JSON-encoded */
    Py_ssize_t n_labels;
    Buf b[N_DIM_ARRAYS];
    const int64_t *hit_rows, *hit_cols, *counts, *ev_articles, *ev_cols, *ev_rows;
    const double *hit_scores, *shares, *maxes, *means, *ev_scores, *strengths;
    Py_ssize_t n_hits, n_ev, hit, ev; /* sizes and cursors */
} Dim;

PyDoc_STRVAR(article_json_doc,
"article_json(heads, bounds, indexes, starts, ends, texts, dims, as_bytes=False)\n"
"\n"
"The JSON of tagged articles (framing.output.json's output format), one str each.\n"
"heads[a] is article a's JSON up to and including '\"n_sentences\": N, '; its\n"
"sentences are rows bounds[a]:bounds[a+1] (int64) of indexes, starts, ends\n"
"(int64; a start below 0, a headline's, leaves both offsets out) and texts\n"
"(str).  Each item of dims is (key, labels,\n"
"hit_rows, hit_cols, hit_scores, counts, shares, maxes, means, ev_articles,\n"
"ev_cols, ev_rows, ev_scores, strengths): the JSON-encoded dimension and label\n"
"ids, the predicted labels sorted by row then best score first, the profile\n"
"arrays (n_articles x n_labels), the evidence sorted by article, label, best\n"
"first, and the profile strengths (n_articles x n_labels; NaN is written null).\n"
"Scores must be finite.  Each article is a str, or with as_bytes its UTF-8 bytes\n"
"followed by a newline (a JSONL line, ready for a binary file).");

static PyObject *
article_json(PyObject *self, PyObject *args)
{
    PyObject *heads, *texts, *dims_in, *o[4];
    int as_bytes = 0;
    if (!PyArg_ParseTuple(args, "O!OOOOO!O!|p", &PyList_Type, &heads, &o[0], &o[1], &o[2],
                          &o[3], &PyList_Type, &texts, &PyList_Type, &dims_in, &as_bytes))
        return NULL;
    Buf b[4];
    memset(b, 0, sizeof b);
    static const char *names[4] = {"bounds", "indexes", "starts", "ends"};
    Py_ssize_t n_dims = PyList_GET_SIZE(dims_in);
    Dim *dims = PyMem_Calloc(n_dims ? n_dims : 1, sizeof(Dim));
    FloatCache *cache = PyMem_Calloc(1, sizeof(FloatCache));
    PyObject *result = NULL, *out = NULL;
    Text t = {0};
    if (!dims || !cache) {
        PyErr_NoMemory();
        goto done;
    }
    for (int i = 0; i < 4; i++)
        if (get_buf(o[i], &b[i], 0, 8, names[i]) < 0)
            goto done;
    const int64_t *bounds = b[0].view.buf, *indexes = b[1].view.buf;
    const int64_t *starts = b[2].view.buf, *ends = b[3].view.buf;
    Py_ssize_t n_articles = PyList_GET_SIZE(heads), n = PyList_GET_SIZE(texts);
    if (LEN(b[0]) != n_articles + 1 || LEN(b[1]) != n || LEN(b[2]) != n || LEN(b[3]) != n ||
        bounds[0] != 0 || bounds[n_articles] != n) {
        PyErr_SetString(PyExc_ValueError, "article_json: inconsistent sentence arrays");
        goto done;
    }
    for (Py_ssize_t r = 0; r < n; r++)
        if (!PyUnicode_Check(PyList_GET_ITEM(texts, r))) {
            PyErr_SetString(PyExc_TypeError, "article_json: texts must be str");
            goto done;
        }
    for (Py_ssize_t a = 0; a < n_articles; a++)
        if (bounds[a + 1] < bounds[a]) {
            PyErr_SetString(PyExc_ValueError, "article_json: bounds decrease");
            goto done;
        }
    for (Py_ssize_t k = 0; k < n_dims; k++) {
        Dim *d = &dims[k];
        PyObject *item = PyList_GET_ITEM(dims_in, k);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2 + N_DIM_ARRAYS) {
            PyErr_SetString(PyExc_TypeError, "article_json: a dimension is a 14-tuple");
            goto done;
        }
        d->key = PyTuple_GET_ITEM(item, 0);
        d->labels = PyTuple_GET_ITEM(item, 1);
        if (!PyUnicode_Check(d->key) || !PyList_Check(d->labels)) {
            PyErr_SetString(PyExc_TypeError, "article_json: key str and labels list expected");
            goto done;
        }
        d->n_labels = PyList_GET_SIZE(d->labels);
        for (int i = 0; i < N_DIM_ARRAYS; i++)
            if (get_buf(PyTuple_GET_ITEM(item, 2 + i), &d->b[i], 0, 8, "dimension array") < 0)
                goto done;
        d->hit_rows = d->b[0].view.buf;
        d->hit_cols = d->b[1].view.buf;
        d->hit_scores = d->b[2].view.buf;
        d->counts = d->b[3].view.buf;
        d->shares = d->b[4].view.buf;
        d->maxes = d->b[5].view.buf;
        d->means = d->b[6].view.buf;
        d->ev_articles = d->b[7].view.buf;
        d->ev_cols = d->b[8].view.buf;
        d->ev_rows = d->b[9].view.buf;
        d->ev_scores = d->b[10].view.buf;
        d->strengths = d->b[11].view.buf;
        d->n_hits = LEN(d->b[0]);
        d->n_ev = LEN(d->b[7]);
        Py_ssize_t cells = n_articles * d->n_labels;
        if (LEN(d->b[1]) != d->n_hits || LEN(d->b[2]) != d->n_hits || LEN(d->b[3]) != cells ||
            LEN(d->b[4]) != cells || LEN(d->b[5]) != cells || LEN(d->b[6]) != cells ||
            LEN(d->b[8]) != d->n_ev || LEN(d->b[9]) != d->n_ev || LEN(d->b[10]) != d->n_ev ||
            LEN(d->b[11]) != cells) {
            PyErr_SetString(PyExc_ValueError, "article_json: inconsistent dimension arrays");
            goto done;
        }
        for (Py_ssize_t h = 0; h < d->n_hits; h++)
            if (d->hit_rows[h] < 0 || d->hit_rows[h] >= n || d->hit_cols[h] < 0 ||
                d->hit_cols[h] >= d->n_labels || (h && d->hit_rows[h] < d->hit_rows[h - 1])) {
                PyErr_SetString(PyExc_ValueError, "article_json: bad or unsorted hits");
                goto done;
            }
        for (Py_ssize_t e = 0; e < d->n_ev; e++)
            if (d->ev_rows[e] < 0 || d->ev_rows[e] >= n || d->ev_cols[e] < 0 ||
                d->ev_cols[e] >= d->n_labels || d->ev_articles[e] < 0 ||
                d->ev_articles[e] >= n_articles) {
                PyErr_SetString(PyExc_ValueError, "article_json: bad evidence");
                goto done;
            }
    }
    out = PyList_New(n_articles);
    if (!out)
        goto done;
#define ADD(call)                                                                            \
    do {                                                                                     \
        if ((call) < 0)                                                                      \
            goto done;                                                                       \
    } while (0)
    for (Py_ssize_t a = 0; a < n_articles; a++) {
        t.size = 0;
        ADD(text_str(&t, PyList_GET_ITEM(heads, a)));
        ADD(TEXT_LIT(&t, "\"sentences\": ["));
        for (int64_t r = bounds[a]; r < bounds[a + 1]; r++) {
            if (r > bounds[a])
                ADD(TEXT_LIT(&t, ", "));
            ADD(TEXT_LIT(&t, "{\"index\": "));
            ADD(text_int(&t, indexes[r]));
            if (starts[r] >= 0) { /* a headline (sentence 0) has no offsets: -1 */
                ADD(TEXT_LIT(&t, ", \"start\": "));
                ADD(text_int(&t, starts[r]));
                ADD(TEXT_LIT(&t, ", \"end\": "));
                ADD(text_int(&t, ends[r]));
            }
            ADD(TEXT_LIT(&t, ", \"text\": "));
            ADD(text_json_str(&t, PyList_GET_ITEM(texts, r)));
            ADD(TEXT_LIT(&t, ", \"labels\": {"));
            for (Py_ssize_t k = 0; k < n_dims; k++) {
                Dim *d = &dims[k];
                if (k)
                    ADD(TEXT_LIT(&t, ", "));
                ADD(text_str(&t, d->key));
                ADD(TEXT_LIT(&t, ": ["));
                for (int first = 1; d->hit < d->n_hits && d->hit_rows[d->hit] == r; d->hit++) {
                    if (!first)
                        ADD(TEXT_LIT(&t, ", "));
                    ADD(TEXT_LIT(&t, "{\"label\": "));
                    first = 0;
                    ADD(text_str(&t, PyList_GET_ITEM(d->labels, d->hit_cols[d->hit])));
                    ADD(TEXT_LIT(&t, ", \"score\": "));
                    ADD(text_float(&t, d->hit_scores[d->hit], cache));
                    ADD(TEXT_LIT(&t, "}"));
                }
                ADD(TEXT_LIT(&t, "]"));
            }
            ADD(TEXT_LIT(&t, "}}"));
        }
        ADD(TEXT_LIT(&t, "], \"profile\": {"));
        for (Py_ssize_t k = 0; k < n_dims; k++) {
            Dim *d = &dims[k];
            if (k)
                ADD(TEXT_LIT(&t, ", "));
            ADD(text_str(&t, d->key));
            ADD(TEXT_LIT(&t, ": {"));
            int first = 1;
            for (Py_ssize_t j = 0; j < d->n_labels; j++) {
                Py_ssize_t cell = a * d->n_labels + j;
                if (!d->counts[cell])
                    continue;
                if (!first)
                    ADD(TEXT_LIT(&t, ", "));
                first = 0;
                ADD(text_str(&t, PyList_GET_ITEM(d->labels, j)));
                ADD(TEXT_LIT(&t, ": {\"count\": "));
                ADD(text_int(&t, d->counts[cell]));
                ADD(TEXT_LIT(&t, ", \"share\": "));
                ADD(text_float(&t, d->shares[cell], cache));
                ADD(TEXT_LIT(&t, ", \"max_score\": "));
                ADD(text_float(&t, d->maxes[cell], cache));
                ADD(TEXT_LIT(&t, ", \"mean_score\": "));
                ADD(text_float(&t, d->means[cell], cache));
                ADD(TEXT_LIT(&t, ", \"strength\": "));
                if (isnan(d->strengths[cell]))
                    ADD(TEXT_LIT(&t, "null"));
                else
                    ADD(text_float(&t, d->strengths[cell], cache));
                ADD(TEXT_LIT(&t, ", \"evidence\": ["));
                for (int e_first = 1; d->ev < d->n_ev && d->ev_articles[d->ev] == a &&
                                      d->ev_cols[d->ev] == j;
                     d->ev++) {
                    int64_t er = d->ev_rows[d->ev];
                    if (!e_first)
                        ADD(TEXT_LIT(&t, ", "));
                    ADD(TEXT_LIT(&t, "{\"index\": "));
                    e_first = 0;
                    ADD(text_int(&t, indexes[er]));
                    ADD(TEXT_LIT(&t, ", \"text\": "));
                    ADD(text_json_str(&t, PyList_GET_ITEM(texts, er)));
                    ADD(TEXT_LIT(&t, ", \"score\": "));
                    ADD(text_float(&t, d->ev_scores[d->ev], cache));
                    ADD(TEXT_LIT(&t, "}"));
                }
                ADD(TEXT_LIT(&t, "]}"));
            }
            ADD(TEXT_LIT(&t, "}"));
        }
        ADD(TEXT_LIT(&t, "}}"));
        if (as_bytes)
            ADD(TEXT_LIT(&t, "\n"));
        PyObject *line = as_bytes ? PyBytes_FromStringAndSize(t.data, t.size)
                                  : PyUnicode_DecodeUTF8(t.data, t.size, "strict");
        if (!line)
            goto done;
        PyList_SET_ITEM(out, a, line);
    }
#undef ADD
    for (Py_ssize_t k = 0; k < n_dims; k++)
        if (dims[k].hit != dims[k].n_hits || dims[k].ev != dims[k].n_ev) {
            PyErr_SetString(PyExc_ValueError,
                            "article_json: hits or evidence do not match the articles");
            goto done;
        }
    result = out;
    out = NULL;
done:
    Py_XDECREF(out);
    PyMem_Free(t.data);
    PyMem_Free(cache);
    release(b, 4);
    if (dims) {
        for (Py_ssize_t k = 0; k < n_dims; k++)
            release(dims[k].b, N_DIM_ARRAYS);
        PyMem_Free(dims);
    }
    return result;
}

/* ------------------------------------------------------------------ word table */

/* Whitespace-separated words -> ids in order of first appearance: the word cache of
 * framing.runtime.compiled without a Python str and a dict look-up per word.  Words are kept
 * as code points in one arena; the hash is seeded per table. */
typedef struct {
    PyObject_HEAD
    uint64_t seed;
    Py_ssize_t n_words, word_cap, n_slots, arena_size, arena_cap;
    int64_t *start;  /* word -> first code point in arena; start[n_words] = arena_size */
    uint64_t *hash;  /* word -> hash */
    int32_t *slots;  /* -1 or a word id */
    Py_UCS4 *arena;
} WordTable;

static void
wordtable_free_arrays(WordTable *w)
{
    PyMem_Free(w->start);
    PyMem_Free(w->hash);
    PyMem_Free(w->slots);
    PyMem_Free(w->arena);
    w->start = NULL;
    w->hash = NULL;
    w->slots = NULL;
    w->arena = NULL;
    w->n_words = w->word_cap = w->n_slots = w->arena_size = w->arena_cap = 0;
}

static int
wordtable_init_arrays(WordTable *w)
{
    w->word_cap = 1024;
    w->n_slots = 4096;
    w->arena_cap = 8192;
    w->start = PyMem_Malloc((w->word_cap + 1) * sizeof(int64_t));
    w->hash = PyMem_Malloc(w->word_cap * sizeof(uint64_t));
    w->slots = PyMem_Malloc(w->n_slots * sizeof(int32_t));
    w->arena = PyMem_Malloc(w->arena_cap * sizeof(Py_UCS4));
    if (!w->start || !w->hash || !w->slots || !w->arena) {
        wordtable_free_arrays(w);
        PyErr_NoMemory();
        return -1;
    }
    memset(w->slots, 0xff, w->n_slots * sizeof(int32_t));
    w->start[0] = 0;
    return 0;
}

static int
wordtable_new_word(WordTable *w, int kind, const void *data, Py_ssize_t i, Py_ssize_t j,
                   uint64_t h)
{
    Py_ssize_t len = j - i;
    if (w->n_words >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "WordTable: too many words");
        return -1;
    }
    if (w->n_words + 1 > w->word_cap) {
        Py_ssize_t cap = 2 * w->word_cap;
        int64_t *start = PyMem_Realloc(w->start, (cap + 1) * sizeof(int64_t));
        if (!start)
            goto nomem;
        w->start = start;
        uint64_t *hash = PyMem_Realloc(w->hash, cap * sizeof(uint64_t));
        if (!hash)
            goto nomem;
        w->hash = hash;
        w->word_cap = cap;
    }
    if (w->arena_size + len > w->arena_cap) {
        Py_ssize_t cap = 2 * w->arena_cap;
        while (cap < w->arena_size + len)
            cap *= 2;
        Py_UCS4 *arena = PyMem_Realloc(w->arena, cap * sizeof(Py_UCS4));
        if (!arena)
            goto nomem;
        w->arena = arena;
        w->arena_cap = cap;
    }
    for (Py_ssize_t k = 0; k < len; k++)
        w->arena[w->arena_size + k] = PyUnicode_READ(kind, data, i + k);
    w->arena_size += len;
    w->hash[w->n_words] = h;
    w->n_words++;
    w->start[w->n_words] = w->arena_size;
    if (2 * w->n_words > w->n_slots) { /* keep the load under 1/2 */
        Py_ssize_t n_slots = 2 * w->n_slots;
        int32_t *slots = PyMem_Malloc(n_slots * sizeof(int32_t));
        if (!slots)
            goto nomem;
        memset(slots, 0xff, n_slots * sizeof(int32_t));
        for (Py_ssize_t e = 0; e < w->n_words; e++) {
            uint64_t pos = w->hash[e] & (uint64_t)(n_slots - 1);
            while (slots[pos] >= 0)
                pos = (pos + 1) & (uint64_t)(n_slots - 1);
            slots[pos] = (int32_t)e;
        }
        PyMem_Free(w->slots);
        w->slots = slots;
        w->n_slots = n_slots;
    }
    else {
        uint64_t pos = h & (uint64_t)(w->n_slots - 1);
        while (w->slots[pos] >= 0)
            pos = (pos + 1) & (uint64_t)(w->n_slots - 1);
        w->slots[pos] = (int32_t)(w->n_words - 1);
    }
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* The id of text[i:j], adding it (and appending it to `added`) when new. */
static int32_t
wordtable_id(WordTable *w, PyObject *text, int kind, const void *data, Py_ssize_t i,
             Py_ssize_t j, PyObject *added)
{
    uint64_t h = w->seed;
    for (Py_ssize_t k = i; k < j; k++) {
        h ^= PyUnicode_READ(kind, data, k);
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33; /* finalise (murmur3 fmix64) so every bit feeds the slot */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    Py_ssize_t len = j - i;
    uint64_t mask = (uint64_t)(w->n_slots - 1);
    for (uint64_t pos = h & mask;; pos = (pos + 1) & mask) {
        int32_t e = w->slots[pos];
        if (e < 0)
            break;
        if (w->hash[e] != h || w->start[e + 1] - w->start[e] != len)
            continue;
        const Py_UCS4 *word = w->arena + w->start[e];
        Py_ssize_t k = 0;
        while (k < len && word[k] == PyUnicode_READ(kind, data, i + k))
            k++;
        if (k == len)
            return e;
    }
    PyObject *word = PyUnicode_Substring(text, i, j);
    if (!word)
        return -1;
    int rc = PyList_Append(added, word);
    Py_DECREF(word);
    if (rc < 0 || wordtable_new_word(w, kind, data, i, j, h) < 0)
        return -1;
    return (int32_t)(w->n_words - 1);
}

static PyObject *
wordtable_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    unsigned long long seed = 0;
    static char *kwlist[] = {"seed", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|K", kwlist, &seed))
        return NULL;
    WordTable *w = (WordTable *)type->tp_alloc(type, 0);
    if (!w)
        return NULL;
    w->seed = seed ^ 0xcbf29ce484222325ULL;
    if (wordtable_init_arrays(w) < 0) {
        Py_DECREF(w);
        return NULL;
    }
    return (PyObject *)w;
}

static void
wordtable_dealloc(WordTable *w)
{
    wordtable_free_arrays(w);
    Py_TYPE(w)->tp_free((PyObject *)w);
}

static Py_ssize_t
wordtable_len(WordTable *w)
{
    return w->n_words;
}

PyDoc_STRVAR(wordtable_lookup_doc,
"lookup(docs) -> (bytes, bytes, list)\n"
"\n"
"The ids of the whitespace-separated words (as str.split() splits) of each\n"
"document (int32), the number of words per document (int64), and the words\n"
"seen for the first time, in id order.");

static PyObject *
wordtable_lookup(WordTable *w, PyObject *docs)
{
    if (!PyList_Check(docs)) {
        PyErr_SetString(PyExc_TypeError, "lookup: docs must be a list of str");
        return NULL;
    }
    Text ids = {0}, counts = {0};
    PyObject *added = PyList_New(0), *result = NULL;
    if (!added)
        return NULL;
    for (Py_ssize_t d = 0; d < PyList_GET_SIZE(docs); d++) {
        PyObject *doc = PyList_GET_ITEM(docs, d);
        if (!PyUnicode_Check(doc)) {
            PyErr_Format(PyExc_TypeError, "lookup: document %zd is not a str", d);
            goto done;
        }
        int kind = PyUnicode_KIND(doc);
        const void *data = PyUnicode_DATA(doc);
        Py_ssize_t length = PyUnicode_GET_LENGTH(doc), i = 0;
        int64_t n_words = 0;
        while (1) {
            while (i < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
                i++;
            if (i >= length)
                break;
            Py_ssize_t j = i + 1;
            while (j < length && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j)))
                j++;
            int32_t id = wordtable_id(w, doc, kind, data, i, j, added);
            if (id < 0 || text_add(&ids, (const char *)&id, sizeof id) < 0)
                goto done;
            n_words++;
            i = j;
        }
        if (text_add(&counts, (const char *)&n_words, sizeof n_words) < 0)
            goto done;
    }
    result = Py_BuildValue("(y#y#O)", ids.data ? ids.data : "", ids.size,
                           counts.data ? counts.data : "", counts.size, added);
done:
    Py_DECREF(added);
    PyMem_Free(ids.data);
    PyMem_Free(counts.data);
    return result;
}

static PyMethodDef wordtable_methods[] = {
    {"lookup", (PyCFunction)wordtable_lookup, METH_O, wordtable_lookup_doc},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods wordtable_as_sequence = {
    .sq_length = (lenfunc)wordtable_len,
};

static PyTypeObject WordTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "framing.runtime._speedups.WordTable",
    .tp_basicsize = sizeof(WordTable),
    .tp_dealloc = (destructor)wordtable_dealloc,
    .tp_as_sequence = &wordtable_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("WordTable(seed=0): words -> ids in order of first appearance."),
    .tp_methods = wordtable_methods,
    .tp_new = wordtable_new,
};

/* ------------------------------------------------------------------ sentences */

/* The character classes of framing.runtime.segment, set once by configure_segmenter. */
enum { SEG_TERMINALS, SEG_CLOSERS, SEG_NL, SEG_BULLETS, SEG_NO_START, SEG_LIST_MARKS,
       SEG_OPENERS, SEG_N };
static Py_UCS4 *seg_chars[SEG_N];
static Py_ssize_t seg_len[SEG_N];
static int seg_ready = 0;
/* The match methods of framing.runtime.segment's _DATELINE and _SPEECH_TAG patterns. */
static PyObject *seg_dateline = NULL, *seg_speech = NULL;

/* Bit k of seg_ascii[c] says whether the ASCII character c is in set k. */
static unsigned char seg_ascii[128];

static int
seg_in(int set, Py_UCS4 c)
{
    if (c < 128)
        return (seg_ascii[c] >> set) & 1;
    for (Py_ssize_t k = 0; k < seg_len[set]; k++)
        if (seg_chars[set][k] == c)
            return 1;
    return 0;
}

PyDoc_STRVAR(configure_segmenter_doc,
"configure_segmenter(terminals, closers, line_breaks, bullets, no_start, list_marks,\n"
"                    openers, dateline_match, speech_tag_match)\n"
"\n"
"The character classes of framing.runtime.segment (each a str) and the match methods of\n"
"its dateline and speech-tag patterns, for sentence_spans.");

static PyObject *
configure_segmenter(PyObject *self, PyObject *args)
{
    PyObject *sets[SEG_N], *dateline, *speech;
    if (!PyArg_ParseTuple(args, "UUUUUUUOO", &sets[0], &sets[1], &sets[2], &sets[3], &sets[4],
                          &sets[5], &sets[6], &dateline, &speech))
        return NULL;
    if (!PyCallable_Check(dateline) || !PyCallable_Check(speech)) {
        PyErr_SetString(PyExc_TypeError, "configure_segmenter: the matchers must be callable");
        return NULL;
    }
    Py_INCREF(dateline);
    Py_XSETREF(seg_dateline, dateline);
    Py_INCREF(speech);
    Py_XSETREF(seg_speech, speech);
    for (int k = 0; k < SEG_N; k++) {
        Py_UCS4 *chars = PyUnicode_AsUCS4Copy(sets[k]);
        if (!chars)
            return NULL;
        PyMem_Free(seg_chars[k]);
        seg_chars[k] = chars;
        seg_len[k] = PyUnicode_GET_LENGTH(sets[k]);
    }
    memset(seg_ascii, 0, sizeof seg_ascii);
    for (int k = 0; k < SEG_N; k++)
        for (Py_ssize_t i = 0; i < seg_len[k]; i++)
            if (seg_chars[k][i] < 128)
                seg_ascii[seg_chars[k][i]] |= (unsigned char)(1 << k);
    seg_ready = 1;
    Py_RETURN_NONE;
}

enum { SEG_SPLIT, SEG_SKIP, SEG_ASK };

/* *end = match(text, pos).end(), or -1 when it does not match; -1 on error. */
static int
seg_match_end(PyObject *match, PyObject *text, Py_ssize_t pos, Py_ssize_t *end)
{
    PyObject *m = PyObject_CallFunction(match, "On", text, pos);
    if (!m)
        return -1;
    if (m != Py_None) {
        PyObject *e = PyObject_CallMethod(m, "end", NULL);
        if (!e) {
            Py_DECREF(m);
            return -1;
        }
        *end = PyLong_AsSsize_t(e);
        Py_DECREF(e);
        if (*end == -1 && PyErr_Occurred()) {
            Py_DECREF(m);
            return -1;
        }
    }
    Py_DECREF(m);
    return 0;
}

/* The common cases of framing.runtime.segment.iter_sentences for a candidate boundary of
 * terminal punctuation: text[p:cs] terminals, text[cs:ws] closers, text[ws:q]
 * whitespace.  Anything less than certain is left to the Python rules (SEG_ASK). */
static int
seg_decide(PyObject *text, int kind, const void *data, Py_ssize_t n, Py_ssize_t s,
           Py_ssize_t p, Py_ssize_t cs, Py_ssize_t ws, Py_ssize_t q, PyObject *abbrev)
{
#define AT(i) PyUnicode_READ(kind, data, (i))
    if (q >= n)
        return SEG_ASK; /* the end of the text */
    Py_UCS4 c = AT(q);
    /* Line breaks in the whitespace ("\r\n" is one): two make a blank line, which
     * always ends the sentence; after one, a list item may start. */
    int breaks = 0;
    for (Py_ssize_t i = ws; i < q; i++) {
        Py_UCS4 x = AT(i);
        if (x == '\r' && i + 1 < q && AT(i + 1) == '\n')
            i++;
        breaks += seg_in(SEG_NL, x);
    }
    if (breaks >= 2)
        return SEG_SPLIT;
    if (breaks &&
        (seg_in(SEG_LIST_MARKS, c) || (c >= 'a' && c <= 'z') || Py_UNICODE_ISDECIMAL(c)))
        return SEG_ASK;
    if (Py_UNICODE_ISLOWER(c) || seg_in(SEG_NO_START, c))
        return SEG_SKIP;
    if (cs - p == 1 && AT(p) == '.') {
        if (p > s && !Py_UNICODE_ISSPACE(AT(p - 1))) {
            /* The word before the period, as the Python rules cut it. */
            Py_ssize_t lo = p - 24 > s ? p - 24 : s, k = p;
            while (k > lo && !Py_UNICODE_ISSPACE(AT(k - 1)))
                k--;
            while (k < p && seg_in(SEG_OPENERS, AT(k)))
                k++;
            Py_ssize_t len = p - k, letters = 0, lower = 0, digits = 0;
            for (Py_ssize_t i = k; i < p; i++) {
                Py_UCS4 ch = AT(i);
                if (ch >= 'a' && ch <= 'z')
                    letters++, lower++;
                else if (ch >= 'A' && ch <= 'Z')
                    letters++;
                else if (ch >= '0' && ch <= '9')
                    digits++;
            }
            int word = len >= 2 && letters == len && lower > 0; /* not an initial or acronym */
            int number = len >= 1 && digits == len;
            if (len && !word && !number)
                return SEG_ASK;
            if (len) {
                PyObject *tok = PyUnicode_Substring(text, k, p);
                if (!tok)
                    return -1;
                int known = PyDict_Contains(abbrev, tok);
                Py_DECREF(tok);
                if (known < 0)
                    return -1;
                if (known)
                    return SEG_ASK;
                if (number && len <= 3 && p - len == s)
                    return SEG_SKIP; /* a list number: "1. First item" */
            }
        }
    }
    else if (p > s && Py_UNICODE_ISSPACE(AT(p - 1))) {
        for (Py_ssize_t i = p; i < cs; i++)
            if (AT(i) == 0x2026 || (AT(i) == '.' && i + 1 < cs && AT(i + 1) == '.'))
                return SEG_SKIP; /* a detached ellipsis */
    }
    if (p - s <= 80 && s + 1 < n && Py_UNICODE_ISUPPER(AT(s + 1)) && Py_UNICODE_ISUPPER(AT(s))) {
        /* A period inside a dateline (MINSK, June 20. /TASS/.) ends no sentence. */
        Py_ssize_t end = -1;
        if (seg_match_end(seg_dateline, text, s, &end) < 0)
            return -1;
        if (ws <= end)
            return SEG_SKIP;
    }
    if (cs < ws && Py_UNICODE_ISUPPER(c)) {
        int quote = 0;
        for (Py_ssize_t i = cs; i < ws; i++)
            if (AT(i) != ')' && AT(i) != ']')
                quote = 1;
        Py_ssize_t end = -1;
        if (quote && seg_match_end(seg_speech, text, q, &end) < 0)
            return -1;
        if (end >= 0)
            return SEG_SKIP; /* "Why?" Lavrov asked. */
    }
    return SEG_SPLIT;
#undef AT
}

PyDoc_STRVAR(sentence_spans_doc,
"sentence_spans(text, pos, start, abbreviations) -> (spans, start, pos)\n"
"\n"
"Scans text from pos for the candidate boundaries of framing.runtime.segment._SCAN, with\n"
"the current sentence starting at start, and settles the common ones: the spans\n"
"of the sentences they end, the new start, and the position of the first\n"
"candidate the Python rules must settle (len(text) when there is none).");

static PyObject *
sentence_spans(PyObject *self, PyObject *args)
{
    PyObject *text, *abbrev;
    Py_ssize_t pos, s;
    if (!PyArg_ParseTuple(args, "UnnO!", &text, &pos, &s, &PyDict_Type, &abbrev))
        return NULL;
    if (!seg_ready) {
        PyErr_SetString(PyExc_RuntimeError, "sentence_spans: call configure_segmenter first");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (pos < 0 || pos > n || s < 0 || s > n) {
        PyErr_SetString(PyExc_ValueError, "sentence_spans: position out of range");
        return NULL;
    }
    PyObject *spans = PyList_New(0);
    if (!spans)
        return NULL;
    Py_ssize_t i = pos;
    while (i < n) {
        Py_UCS4 x = PyUnicode_READ(kind, data, i);
        if (seg_in(SEG_TERMINALS, x)) {
            Py_ssize_t j = i + 1;
            while (j < n && seg_in(SEG_TERMINALS, PyUnicode_READ(kind, data, j)))
                j++;
            Py_ssize_t cs = j;
            while (j < n && seg_in(SEG_CLOSERS, PyUnicode_READ(kind, data, j)))
                j++;
            Py_ssize_t ws = j;
            while (j < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j)))
                j++;
            if (j == ws) { /* no whitespace: not a candidate here */
                i++;
                continue;
            }
            int decision = seg_decide(text, kind, data, n, s, i, cs, ws, j, abbrev);
            if (decision < 0)
                goto fail;
            if (decision == SEG_ASK)
                break;
            if (decision == SEG_SPLIT) {
                PyObject *span = Py_BuildValue("(nn)", s, ws);
                if (!span || PyList_Append(spans, span) < 0) {
                    Py_XDECREF(span);
                    goto fail;
                }
                Py_DECREF(span);
                s = j;
            }
            i = j;
        }
        else if (seg_in(SEG_NL, x) ||
                 (seg_in(SEG_BULLETS, x) && i > 0 &&
                  Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i - 1))))
            break; /* line breaks and bullets: the Python rules */
        else
            i++;
    }
    return Py_BuildValue("(Nnn)", spans, s, i);
fail:
    Py_DECREF(spans);
    return NULL;
}

static PyMethodDef methods[] = {
    {"unit_scores", unit_scores, METH_VARARGS, unit_scores_doc},
    {"feature_scores", feature_scores, METH_VARARGS, feature_scores_doc},
    {"word_scores", word_scores, METH_VARARGS, word_scores_doc},
    {"article_json", article_json, METH_VARARGS, article_json_doc},
    {"configure_segmenter", configure_segmenter, METH_VARARGS, configure_segmenter_doc},
    {"sentence_spans", sentence_spans, METH_VARARGS, sentence_spans_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "framing.runtime._speedups",
    .m_doc = "Optional compiled parts of framing: scoring loops, word table, JSON writer.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    for (int c = 1; c < LOG_TABLE; c++)
        sublinear[c] = 1.0 + log((double)c);
    if (PyType_Ready(&WordTableType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&WordTableType);
    if (PyModule_AddObject(m, "WordTable", (PyObject *)&WordTableType) < 0) {
        Py_DECREF(&WordTableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
