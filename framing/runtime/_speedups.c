/*
 * framing.runtime._speedups: the optional scoring kernel of framing.runtime.tfidf_scoring.
 * framing works without it (framing/runtime/_native.py decides; FRAMING_NO_SPEEDUPS=1 turns
 * it off) and gives the same scores with numpy, only slower.  It holds exactly:
 *
 * - unit_scores, word_scores, feature_scores: per sentence, the TF-IDF + linear sums of
 *   its character n-grams (cached per word), word unigrams and bigrams, or feature
 *   occurrences (numpy needs a sort for what one counting pass per sentence does here);
 *   the rows are summed by add_rows, which keeps a sentence's sums in vector registers
 *   (AVX when the CPU has it, chosen at load time by the compiler's target_clones) and
 *   adds in the order of a plain loop, so scores are the same bits on every CPU;
 * - table_values: look-ups in the integer hash tables of framing.runtime.arrays.IntTable
 *   (the character n-grams of words seen for the first time);
 * - ragged_take: the lists of framing.runtime.arrays.Ragged of a batch's words, joined
 *   (the tokens that the out-of-distribution check reads, one pass instead of numpy's six);
 * - word_counts: the number of whitespace-separated words of each text (the sentence
 *   length that the article-context stage reads; str.split's whitespace, as WordTable);
 * - WordTable: the word cache of framing.runtime.compiled, whitespace-separated words ->
 *   ids in order of first appearance (its own hash table, one per scorer).
 *
 * No rule of framing is written here: segmentation, labels and JSON are Python
 * (framing.runtime.segment, framing.runtime.labels, framing.output.json).  There is no
 * global mutable state: the table of 1 + log(count) lives on the stack of each call, and
 * a WordTable's state is its own object.
 *
 * It is built when a C compiler is available at install time.  Arrays come in
 * through the buffer protocol, so building needs no numpy headers.  The Python side
 * checks dtypes and shapes; this side checks every index it follows, so bad
 * arrays raise ValueError instead of reading out of bounds.  .ci/sanitize (run by
 * .ci/run) runs the tests against a build with AddressSanitizer and
 * UndefinedBehaviorSanitizer.
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

/* 1 + log(c) for small counts (log is the costly step of a correction): filled by each
 * call that needs it, on its own stack, so the module keeps no state between calls. */
#define LOG_TABLE 256
typedef struct {
    double value[LOG_TABLE];
} LogTable;

static void
fill_log_table(LogTable *table, int mode)
{
    if (mode != TF_SUBLINEAR)
        return;
    table->value[0] = 0.0;
    for (int c = 1; c < LOG_TABLE; c++)
        table->value[c] = 1.0 + log((double)c);
}

static double
term_frequency(const LogTable *table, int mode, int32_t count)
{
    if (mode == TF_BINARY)
        return 1.0;
    if (mode == TF_SUBLINEAR)
        return count < LOG_TABLE ? table->value[count] : 1.0 + log((double)count);
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

/* How many items ahead of the one being summed a loop asks for its data: far enough for
 * a fetch from the last-level cache to land, near enough not to queue more fetches than
 * the core can keep in flight (asking for a whole document at once stalled on that). */
#define AHEAD 8

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

/* The counting state of one call, for one document at a time: a zeroed count per
 * feature, a list of feature ids (room for every feature and one more: branch-free
 * appends write the slot after the last entry), and the features finish_document adds
 * with their weights. */
typedef struct {
    int32_t *counts, *list, *feats;
    double *weights;
} Counts;

static int
alloc_counts(Py_ssize_t n_features, Counts *c)
{
    c->counts = calloc(n_features ? n_features : 1, sizeof(int32_t));
    c->list = malloc((n_features + 1) * sizeof(int32_t));
    c->feats = malloc((n_features + 1) * sizeof(int32_t));
    c->weights = malloc((n_features + 1) * sizeof(double));
    if (c->counts && c->list && c->feats && c->weights)
        return 0;
    PyErr_NoMemory();
    return -1;
}

static void
free_counts(Counts *c)
{
    free(c->counts);
    free(c->list);
    free(c->feats);
    free(c->weights);
}

/*
 * out[j] += weights[t] * rows[feats[t]][j] for t = 0..n-1 and every column j (weights
 * NULL: 1.0).  Each out[j] receives the same products in the same order as that plain
 * loop, so the sums are the same to the bit; the columns are taken 16 and then 4 at a
 * time and kept in registers across all t, instead of loading and storing out for
 * every row.  Without AVX, a 4-wide vector is two SSE2 halves.
 */
#if defined(__GNUC__) || defined(__clang__)
typedef double V4 __attribute__((vector_size(32), aligned(8)));

/* add_rows for the columns out[0:4 * lanes] (rows offset to them): `lanes` is a
 * constant where it is inlined, so the sums stay in registers. */
static inline __attribute__((always_inline)) void
add_columns(double *out, const double *rows, Py_ssize_t width, const int32_t *feats,
            const double *weights, Py_ssize_t n, int lanes, int fetch)
{
    V4 sum[4];
    memcpy(sum, out, lanes * sizeof(V4));
    for (Py_ssize_t t = 0; t < n; t++) {
        if (fetch && t + AHEAD < n)
            prefetch_span(rows + (Py_ssize_t)feats[t + AHEAD] * width,
                          width * (Py_ssize_t)sizeof(double));
        const V4 *r = (const V4 *)(rows + (Py_ssize_t)feats[t] * width);
        double w = weights ? weights[t] : 1.0;
        V4 wv = {w, w, w, w};
        for (int q = 0; q < lanes; q++)
            sum[q] += wv * r[q];
    }
    memcpy(out, sum, lanes * sizeof(V4));
}

#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
__attribute__((target_clones("avx", "default")))
#endif
#endif
#endif
static void
add_rows(double *out, const double *rows, Py_ssize_t width, const int32_t *feats,
         const double *weights, Py_ssize_t n)
{
    Py_ssize_t j = 0;
#if defined(__GNUC__) || defined(__clang__)
    for (; j + 16 <= width; j += 16)
        add_columns(out + j, rows + j, width, feats, weights, n, 4, j == 0);
    for (; j + 4 <= width; j += 4)
        add_columns(out + j, rows + j, width, feats, weights, n, 1, j == 0);
#endif
    for (; j < width; j++) {
        double a = out[j];
        for (Py_ssize_t t = 0; t < n; t++)
            a += (weights ? weights[t] : 1.0) * rows[(Py_ssize_t)feats[t] * width + j];
        out[j] = a;
    }
}

/*
 * The shared core.  For each document, `c->counts` holds how often each feature
 * occurred; the features in `listed` are corrected (or added) and their counts reset.
 * With `naive` set, out/sq already hold the sums that treat every occurrence
 * as tf 1, and only features seen more than once are corrected; otherwise
 * every feature is added with its tf.
 */
static void
finish_document(const LogTable *logs, const int32_t *listed, Py_ssize_t n_listed, Counts *c,
                const double *rows, const double *normw, Py_ssize_t width, int tf_mode,
                int norm_mode, int naive, double *out, double *sq)
{
    Py_ssize_t n_add = 0;
    for (Py_ssize_t t = 0; t < n_listed && t < AHEAD; t++)
        PREFETCH(normw + listed[t]);
    for (Py_ssize_t t = 0; t < n_listed; t++) {
        int32_t f = listed[t];
        if (t + AHEAD < n_listed)
            PREFETCH(normw + listed[t + AHEAD]);
        int32_t count = c->counts[f];
        c->counts[f] = 0;
        if (naive && count == 1)
            continue;
        double cnt = (double)count;
        double tf = term_frequency(logs, tf_mode, count);
        double w = naive ? tf - cnt : tf;
        if (w != 0.0) {
            c->feats[n_add] = f;
            c->weights[n_add++] = w;
        }
        if (norm_mode == NORM_L2)
            *sq += (naive ? tf * tf - cnt : tf * tf) * normw[f];
        else if (norm_mode == NORM_L1)
            *sq += w * normw[f];
    }
    add_rows(out, rows, width, c->feats, c->weights, n_add);
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
    Counts c = {0};
    uint64_t *seen = NULL;
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
    if (n_docs >= INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "unit_scores: more than 2**31 - 2 documents");
        goto done;
    }
    if (correct && alloc_counts(n_features, &c) < 0)
        goto done;
    if (correct && (seen = calloc(n_features ? n_features : 1, sizeof(uint64_t))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }

    /* Unit features are checked as they are used (the cache is far larger than a batch). */
    int bad = 0;
    LogTable logs;
    fill_log_table(&logs, tf_mode);
/* A unit's naive row, norm term and (when repeats are corrected) feature list. */
#define PREFETCH_UNIT(v)                                                                   \
    do {                                                                                   \
        int32_t v_ = (v);                                                                  \
        prefetch_span(urows + (Py_ssize_t)v_ * width, width * (Py_ssize_t)sizeof(double)); \
        PREFETCH(unorm + v_);                                                              \
        if (correct && ustart[v_] >= 0 && ustart[v_] < n_flat)                             \
            prefetch_span(ufeats + ustart[v_], ulen[v_] * (Py_ssize_t)sizeof(int32_t));    \
    } while (0)
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n_uids && k < AHEAD; k++)
        PREFETCH_UNIT(uids[k]);
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        double *o_row = out + d * width;
        /* seen[f] is (document number << 32) + count: a count from an earlier document
         * reads as 0, so no pass resets the counts after a document. */
        uint64_t stamp = (uint64_t)(d + 1) << 32;
        Py_ssize_t n_repeated = 0, n_occurrences = 0;
        add_rows(o_row, urows, width, uids + doc_ptr[d], NULL, doc_ptr[d + 1] - doc_ptr[d]);
        for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; k++) {
            if (k + AHEAD < n_uids) /* the flat list runs on into the next documents */
                PREFETCH_UNIT(uids[k + AHEAD]);
            int32_t u = uids[k];
            sq[d] += unorm[u];
            if (!correct)
                continue;
            n_occurrences += ulen[u];
            if (ustart[u] < 0 || ulen[u] < 0 || ustart[u] + ulen[u] > n_flat ||
                n_occurrences > INT32_MAX) {
                bad = 1;
                break;
            }
            /* Branch-free counting: a feature is listed when its count reaches 2. */
            const int32_t *f = ufeats + ustart[u], *end = f + ulen[u];
            for (; f < end; f++) {
                uint32_t id = (uint32_t)*f;
                if (id >= (uint64_t)n_features) {
                    bad = 1;
                    break;
                }
                uint64_t v = seen[id];
                v = (v & ~(uint64_t)UINT32_MAX) == stamp ? v + 1 : stamp + 1;
                seen[id] = v;
                c.list[n_repeated] = (int32_t)id;
                n_repeated += (uint32_t)v == 2;
            }
            if (bad)
                break;
        }
        if (bad)
            break;
        if (correct) {
            for (Py_ssize_t t = 0; t < n_repeated; t++)
                c.counts[c.list[t]] = (int32_t)(uint32_t)seen[c.list[t]];
            finish_document(&logs, c.list, n_repeated, &c, rows, normw, width, tf_mode,
                            norm_mode, 1, o_row, sq + d);
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
    free_counts(&c);
    free(seen);
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
    Counts c = {0};
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
    if (alloc_counts(n_features, &c) < 0)
        goto done;
    LogTable logs;
    fill_log_table(&logs, tf_mode);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        Py_ssize_t n_touched = 0;
        for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; k++)
            if (c.counts[feats[k]]++ == 0)
                c.list[n_touched++] = (int32_t)feats[k];
        finish_document(&logs, c.list, n_touched, &c, rows, normw, width, tf_mode, norm_mode, 0,
                        out + d * width, sq + d);
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    free_counts(&c);
    release(b, 6);
    return result;
}

/* ------------------------------------------------------------------ integer hash tables */

/* framing.runtime.arrays.IntTable: int64 keys in open addressing with linear probing
 * from the home slot (key * MULT) >> shift; -1 marks an empty slot (keys are >= 0). */
static uint64_t
table_home(int64_t key, int shift)
{
    return ((uint64_t)key * 0x9E3779B97F4A7C15ULL) >> shift;
}

/* The slot of `key` within `probes` slots of its home, or -1. */
static int64_t
table_slot(const int64_t *tkeys, uint64_t mask, int probes, int shift, int64_t key)
{
    uint64_t home = table_home(key, shift);
    for (int p = 0; p < probes; p++) {
        uint64_t pos = (home + (uint64_t)p) & mask;
        if (tkeys[pos] == key)
            return (int64_t)pos;
        if (tkeys[pos] == -1)
            break;
    }
    return -1;
}

/* A table's arrays, as IntTable.arrays() gives them, checked. */
static int
check_table(Py_ssize_t n_slots, Py_ssize_t n_values, int probes, int shift, const char *fn)
{
    if ((n_slots & (n_slots - 1)) != 0 || n_values != n_slots || shift < 1 || shift > 63 ||
        probes < 0) {
        PyErr_Format(PyExc_ValueError, "%s: not a hash table", fn);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(table_values_doc,
"table_values(table_keys, table_values, probes, shift, query, out)\n"
"\n"
"Looks int64 keys up in an IntTable (its arrays, probes and shift): out[i] (int64)\n"
"is the value of query[i], or -1 when the table does not hold it.");

static PyObject *
table_values(PyObject *self, PyObject *args)
{
    PyObject *o[4];
    int probes, shift;
    if (!PyArg_ParseTuple(args, "OOiiOO", &o[0], &o[1], &probes, &shift, &o[2], &o[3]))
        return NULL;
    Buf b[4];
    memset(b, 0, sizeof b);
    static const char *names[4] = {"table_keys", "table_values", "query", "out"};
    PyObject *result = NULL;
    for (int i = 0; i < 4; i++)
        if (get_buf(o[i], &b[i], i == 3, 8, names[i]) < 0)
            goto done;
    const int64_t *tkeys = b[0].view.buf, *tvals = b[1].view.buf, *query = b[2].view.buf;
    int64_t *out = b[3].view.buf;
    Py_ssize_t n_slots = LEN(b[0]), n = LEN(b[2]);
    if (check_table(n_slots, LEN(b[1]), probes, shift, "table_values") < 0)
        goto done;
    if (LEN(b[3]) != n) {
        PyErr_SetString(PyExc_ValueError, "table_values: out and query differ in length");
        goto done;
    }
    uint64_t mask = (uint64_t)n_slots - 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        if (n_slots && i + AHEAD < n && query[i + AHEAD] >= 0) {
            uint64_t home = table_home(query[i + AHEAD], shift) & mask;
            PREFETCH(tkeys + home);
            PREFETCH(tvals + home);
        }
        int64_t slot = n_slots && query[i] >= 0 ? table_slot(tkeys, mask, probes, shift, query[i])
                                                : -1;
        out[i] = slot >= 0 ? tvals[slot] : -1;
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    release(b, 4);
    return result;
}

PyDoc_STRVAR(ragged_take_doc,
"ragged_take(start, length, flat, uids) -> (bytearray, bytearray)\n"
"\n"
"The lists of framing.runtime.arrays.Ragged (start, length, flat: int64) of\n"
"uids (int32), concatenated: where each uid's list begins (int64, len(uids) + 1\n"
"entries, from 0) and the items (int64), as Ragged.take gives them.");

static PyObject *
ragged_take(PyObject *self, PyObject *args)
{
    PyObject *o[4];
    if (!PyArg_ParseTuple(args, "OOOO", &o[0], &o[1], &o[2], &o[3]))
        return NULL;
    Buf b[4];
    memset(b, 0, sizeof b);
    static const char *names[4] = {"start", "length", "flat", "uids"};
    PyObject *ptr = NULL, *items = NULL, *result = NULL;
    for (int i = 0; i < 4; i++)
        if (get_buf(o[i], &b[i], 0, i == 3 ? 4 : 8, names[i]) < 0)
            goto done;
    const int64_t *start = b[0].view.buf, *length = b[1].view.buf, *flat = b[2].view.buf;
    const int32_t *uids = b[3].view.buf;
    Py_ssize_t n_lists = LEN(b[0]), n_flat = LEN(b[2]), n = LEN(b[3]);
    if (LEN(b[1]) != n_lists) {
        PyErr_SetString(PyExc_ValueError, "ragged_take: start and length differ in length");
        goto done;
    }
    ptr = PyByteArray_FromStringAndSize(NULL, (n + 1) * (Py_ssize_t)sizeof(int64_t));
    if (!ptr)
        goto done;
    int64_t *out_ptr = (int64_t *)PyByteArray_AS_STRING(ptr);
    int64_t total = 0;
    out_ptr[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t u = uids[i];
        if (u < 0 || u >= n_lists || length[u] < 0 || start[u] < 0 ||
            length[u] > n_flat - start[u]) {
            PyErr_Format(PyExc_ValueError, "ragged_take: uid %zd (%d) is outside the lists", i,
                         (int)u);
            goto done;
        }
        total += length[u];
        out_ptr[i + 1] = total;
    }
    items = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)total * (Py_ssize_t)sizeof(int64_t));
    if (!items)
        goto done;
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(items);
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t *from = flat + start[uids[i]];
        for (int64_t k = 0, len = length[uids[i]]; k < len; k++)
            *out++ = from[k];
    }
    result = PyTuple_Pack(2, ptr, items);
done:
    Py_XDECREF(ptr);
    Py_XDECREF(items);
    release(b, 4);
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
"an empty slot), hashed as in framing.runtime.arrays.IntTable.  Adds into out and sq.");

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
    Counts c = {0};
    int64_t *occ = NULL, *tok = NULL, *keys = NULL;
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
    if (check_table(n_slots, LEN(b[7]), probes, shift, "word_scores") < 0)
        goto done;
    if (n_docs < 0 || LEN(b[3]) != n_units || LEN(b[8]) != n_features * width ||
        LEN(b[10]) != n_docs * width || LEN(b[11]) != n_docs || max_n > 2) {
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
    if (alloc_counts(n_features, &c) < 0)
        goto done;
    occ = malloc((2 * longest + 1) * sizeof(int64_t));
    tok = malloc((longest + 1) * sizeof(int64_t));
    keys = malloc((longest + 1) * sizeof(int64_t));
    if (!occ || !tok || !keys) {
        PyErr_NoMemory();
        goto done;
    }
    const uint64_t mask = (uint64_t)n_slots - 1;
    int bad = 0;
    LogTable logs;
    fill_log_table(&logs, tf_mode);
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
                uint64_t home = table_home(keys[i], shift) & mask;
                PREFETCH(tkeys + home);
                PREFETCH(tvals + home);
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
                int64_t slot = table_slot(tkeys, mask, probes, shift, keys[i]);
                if (slot >= 0)
                    occ[n_occ++] = tvals[slot];
            }
        }
        Py_ssize_t n_touched = 0;
        for (Py_ssize_t k = 0; k < n_occ; k++) {
            int64_t f = occ[k];
            if (f < 0 || f >= n_features) {
                bad = 1;
                break;
            }
            if (c.counts[f]++ == 0)
                c.list[n_touched++] = (int32_t)f;
        }
        finish_document(&logs, c.list, n_touched, &c, rows, normw, width, tf_mode, norm_mode, 0,
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
    free_counts(&c);
    free(occ);
    free(tok);
    free(keys);
    release(b, 12);
    return result;
}

/* ------------------------------------------------------------------ growing buffer */

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

/* The table's hash of code points one at a time: the seed, step per code point, finish. */
#define WORD_HASH_STEP(h, c) ((h) = ((h) ^ (uint64_t)(c)) * 0x100000001b3ULL)

static uint64_t
word_hash_finish(uint64_t h)
{
    h ^= h >> 33; /* finalise (murmur3 fmix64) so every bit feeds the slot */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* The id of text[i:j] (hashed: h), adding it (and appending it to `added`) when new. */
static int32_t
wordtable_id(WordTable *w, PyObject *text, int kind, const void *data, Py_ssize_t i,
             Py_ssize_t j, uint64_t h, PyObject *added)
{
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

/* Whether a code point below 256 is whitespace to str.split() (Py_UNICODE_ISSPACE). */
static const unsigned char LATIN1_SPACE[256] = {
    [9] = 1, [10] = 1, [11] = 1, [12] = 1, [13] = 1, [28] = 1, [29] = 1, [30] = 1,
    [31] = 1, [32] = 1, [0x85] = 1, [0xa0] = 1,
};

PyDoc_STRVAR(word_counts_doc,
"word_counts(texts) -> bytearray\n"
"\n"
"len(text.split()) of each str of the list texts, as int64 (the sentence length of\n"
"framing.runtime.context.sentence_length, which states the rule).");

static PyObject *
word_counts(PyObject *self, PyObject *texts)
{
    if (!PyList_Check(texts)) {
        PyErr_SetString(PyExc_TypeError, "word_counts: texts must be a list of str");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(texts);
    PyObject *result = PyByteArray_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    if (!result)
        return NULL;
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(result);
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *text = PyList_GET_ITEM(texts, t);
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "word_counts: text %zd is not str", t);
            Py_DECREF(result);
            return NULL;
        }
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t length = PyUnicode_GET_LENGTH(text);
        int64_t words = 0;
        int in_word = 0;
        if (kind == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *chars = data;
            for (Py_ssize_t k = 0; k < length; k++) {
                int space = LATIN1_SPACE[chars[k]];
                words += !space & !in_word;
                in_word = !space;
            }
        }
        else {
            for (Py_ssize_t k = 0; k < length; k++) {
                int space = Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k)) != 0;
                words += !space & !in_word;
                in_word = !space;
            }
        }
        out[t] = words;
    }
    return result;
}

/* The next word of doc from position *at: its bounds [*i, *j) and hash; 0 at the end.
 * Text of one byte per code point (most text) is scanned and hashed in one pass. */
static int
next_word(const WordTable *w, int kind, const void *data, Py_ssize_t length, Py_ssize_t *at,
          Py_ssize_t *i, Py_ssize_t *j, uint64_t *hash)
{
    Py_ssize_t k = *at;
    uint64_t h = w->seed;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *text = data;
        while (k < length && LATIN1_SPACE[text[k]])
            k++;
        if (k >= length)
            return 0;
        *i = k;
        for (; k < length && !LATIN1_SPACE[text[k]]; k++)
            WORD_HASH_STEP(h, text[k]);
    }
    else {
        while (k < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k)))
            k++;
        if (k >= length)
            return 0;
        *i = k;
        for (; k < length; k++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, k);
            if (Py_UNICODE_ISSPACE(c))
                break;
            WORD_HASH_STEP(h, c);
        }
    }
    *at = *j = k;
    *hash = word_hash_finish(h);
    return 1;
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
        Py_ssize_t length = PyUnicode_GET_LENGTH(doc), at = 0, i, j;
        int64_t n_words = 0;
        uint64_t h;
        while (next_word(w, kind, data, length, &at, &i, &j, &h)) {
            int32_t id = wordtable_id(w, doc, kind, data, i, j, h, added);
            if (id < 0 || text_add(&ids, (const char *)&id, sizeof id) < 0)
                goto done;
            n_words++;
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

static PyMethodDef methods[] = {
    {"unit_scores", unit_scores, METH_VARARGS, unit_scores_doc},
    {"feature_scores", feature_scores, METH_VARARGS, feature_scores_doc},
    {"word_scores", word_scores, METH_VARARGS, word_scores_doc},
    {"table_values", table_values, METH_VARARGS, table_values_doc},
    {"ragged_take", ragged_take, METH_VARARGS, ragged_take_doc},
    {"word_counts", word_counts, METH_O, word_counts_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "framing.runtime._speedups",
    .m_doc = "The optional scoring kernel of framing: per-sentence TF-IDF sums and the word table.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
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
