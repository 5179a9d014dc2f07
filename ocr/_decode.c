/* The format-aware decoder's hot loops in C: Grammar.correct (ocr/formats.py) and the constrained
 * CTC beam (ocr/ctc.py `constrained`), over tables ocr/compiled.py packs once per Grammar; and
 * ctc.greedy and ctc.align on float32 probabilities (numpy's own log tables passed in).
 *
 * This is an accelerator of those Python functions, not a second decoder: they stay the reference
 * and the fallback, and every choice here follows theirs so the reads are the same bit for bit --
 * dict insertion order (a state or prefix keeps its first slot), strict `<` between equal costs,
 * Python's stable sort, the heap of (score, prefix) with heapq's sift order and tuple comparison,
 * and `_logadd` in its exact form. Doubles are added in the same order as the Python code adds
 * them, and the build turns floating-point contraction off (ocr/build_ext.py's CFLAGS, which
 * setup.py uses too): a fused multiply-add would round differently from Python's `a - w * b`.
 * Logarithms are numpy's (float32) or libm's log/exp, which Python's math module calls.
 *
 * Only long-stable CPython API is used (3.6 on the Nano's aarch64 to 3.11+ here). The GIL is held
 * throughout and no Python code runs inside a loop, so the scratch arrays in the tables are safe.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VERSION 1       /* of the table layout: ocr/compiled.py refuses a module built for another */
#define NO_CHAR ((Py_UCS4)0xFFFFFFFFu)
#define CAPSULE "ocr._decode.Tables"

/* --- the grammar's tables ------------------------------------------------------------------- */
typedef struct {
    int n, start, accept;
    int nchars;          /* character ids 0..nchars-1; nchars itself: a character nothing reads */
    int space;           /* the id of ' ' (-1: none) */
    double sub_cost, drop_cost;
    /* eclosure(s) per state, in its dict's order: state, cost and the labels on the way */
    int *cl_off, *cl_state, *cl_lab_off, *lab;
    double *cl_cost;
    /* the character edges per state: target, and a row of nchars flags (the edge reads it) */
    int *tr_off, *tr_target;
    unsigned char *tr_reads;
    /* per character id: its look-alikes that some edge reads, in the file's order */
    int *lk_off, *lk_alt;
    Py_UCS4 *cp;         /* the code point of each character id */
    double *least, *acc; /* least cost in the closure; the cost into the accepting state */
    unsigned char *has_acc;
    PyObject *names;     /* label id -> format name */
    unsigned char *readable;  /* n x nchars: Grammar._reads(s, c) is not empty */
    /* Grammar._closure_list(s, c), built on first use: the eclosure entries (indices into cl_*)
     * whose state can read c; cf_len[s * nchars + c] -1 until then. cl_accept[s]: the entry of
     * the accepting state in eclosure(s), -1 when none (the end's closure) */
    int *cf_start, *cf_len, *cf_entry, cf_n, cf_cap, *cl_accept;
    /* Grammar._moves_from(s)[c], built on first use: mv_len[s * nchars + c] -1 until then */
    int *mv_start, *mv_len, *mv_state, mv_n, mv_cap;
    double *mv_cost;
    /* scratch, -1 between calls: state -> its slot in the layer or kernel being built; scratch2
     * the same for a move table built meanwhile; layers: correct's three layers of n states */
    int *scratch, *scratch2, *layer_state, *layer_path;
    double *layer_cost;
} Tables;

static void tables_free(PyObject *capsule)
{
    Tables *g = (Tables *)PyCapsule_GetPointer(capsule, CAPSULE);
    if (!g)
        return;
    free(g->cl_off); free(g->cl_state); free(g->cl_lab_off); free(g->lab); free(g->cl_cost);
    free(g->tr_off); free(g->tr_target); free(g->tr_reads); free(g->lk_off); free(g->lk_alt);
    free(g->cp); free(g->least); free(g->acc); free(g->has_acc); free(g->scratch);
    free(g->readable); free(g->mv_start); free(g->mv_len); free(g->mv_state); free(g->mv_cost);
    free(g->scratch2); free(g->layer_state); free(g->layer_path); free(g->layer_cost);
    free(g->cf_start); free(g->cf_len); free(g->cf_entry); free(g->cl_accept);
    Py_XDECREF(g->names);
    free(g);
}

/* A Python sequence of ints (as_double 0) or floats (1) -> a malloc'd array of int or double, its
 * length in *len when len is not NULL (NULL and an exception on error). */
static void *number_array(PyObject *seq_in, int as_double, Py_ssize_t *len)
{
    PyObject *seq = PySequence_Fast(seq_in, "expected a sequence of numbers");
    Py_ssize_t i, n;
    void *out;
    if (!seq)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    out = malloc((as_double ? sizeof(double) : sizeof(int)) * (n ? n : 1));
    if (!out) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (as_double)
            ((double *)out)[i] = PyFloat_AsDouble(item);
        else
            ((int *)out)[i] = (int)PyLong_AsLong(item);
        if (PyErr_Occurred()) {
            free(out);
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    if (len)
        *len = n;
    return out;
}

#define int_array(seq, len) ((int *)number_array((seq), 0, (len)))
#define double_array(seq) ((double *)number_array((seq), 1, NULL))

/* Room for `more` ints at the end of a growing array; 0, or -1 on lack of memory. */
static int grow_ints(int **arr, int *cap, int len, int more)
{
    if (len + more > *cap) {
        int want = 2 * (len + more) > 1024 ? 2 * (len + more) : 1024;
        int *grown = (int *)realloc(*arr, sizeof(int) * want);
        if (!grown)
            return -1;
        *arr = grown;
        *cap = want;
    }
    return 0;
}

/* Views of one or two C-contiguous 2-D float32 arrays (b NULL: one only); -1 and an exception
 * when one is not such an array (then nothing is held). */
static int float_matrices(const char *who, PyObject *a, Py_buffer *av, PyObject *b, Py_buffer *bv)
{
    if (PyObject_GetBuffer(a, av, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0)
        return -1;
    if (b && PyObject_GetBuffer(b, bv, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0) {
        PyBuffer_Release(av);
        return -1;
    }
    if (av->ndim != 2 || strcmp(av->format, "f") || (b && (bv->ndim != 2 || strcmp(bv->format, "f")))) {
        PyErr_Format(PyExc_ValueError, "ocr._decode.%s: expected C-contiguous 2-D float32 arrays", who);
        PyBuffer_Release(av);
        if (b)
            PyBuffer_Release(bv);
        return -1;
    }
    return 0;
}

/* Whether edge `tr` reads character id c (an id past the table reads nothing). */
static int edge_reads(const Tables *g, int tr, int c)
{
    return c >= 0 && c < g->nchars && g->tr_reads[(size_t)tr * g->nchars + c];
}

/* Grammar._reads(s, c) one edge at a time: the next edge of s from *tr on that reads c as it is
 * (*alt = NO_CHAR, cost 0) or as its first look-alike the edge reads (*alt, SUB_COST); -1 when
 * none is left. */
static int next_read(const Tables *g, int s, int c, int *tr, double *swap, Py_UCS4 *alt)
{
    int k;
    for (; *tr < g->tr_off[s + 1]; (*tr)++) {
        int e = *tr;
        if (edge_reads(g, e, c)) {
            *swap = 0.0;
            *alt = NO_CHAR;
            (*tr)++;
            return g->tr_target[e];
        }
        if (c >= 0 && c < g->nchars) {
            for (k = g->lk_off[c]; k < g->lk_off[c + 1]; k++) {
                if (edge_reads(g, e, g->lk_alt[k])) {
                    *swap = g->sub_cost;
                    *alt = g->cp[g->lk_alt[k]];
                    (*tr)++;
                    return g->tr_target[e];
                }
            }
        }
    }
    return -1;
}

/* tables(n, start, accept, nchars, space, sub_cost, drop_cost, cl_off, cl_state, cl_cost,
 *        cl_lab_off, lab, tr_off, tr_target, tr_reads (bytes), lk_off, lk_alt, cp, least,
 *        acc, has_acc (bytes), names) -> capsule. ocr/compiled.py's Packed is the only caller. */
static PyObject *tables(PyObject *self, PyObject *args)
{
    Tables *g;
    PyObject *o[13], *names, *capsule;
    const char *reads, *has_acc;
    Py_ssize_t reads_len, has_acc_len, ntr, n_cp;
    int i;
    (void)self;
    g = (Tables *)calloc(1, sizeof(Tables));
    if (!g)
        return PyErr_NoMemory();
    if (!PyArg_ParseTuple(args, "iiiiiddOOOOOOOy#OOOOOy#O!", &g->n, &g->start, &g->accept,
                          &g->nchars, &g->space, &g->sub_cost, &g->drop_cost, &o[0], &o[1], &o[2],
                          &o[3], &o[4], &o[5], &o[6], &reads, &reads_len, &o[7], &o[8], &o[9],
                          &o[10], &o[11], &has_acc, &has_acc_len, &PyTuple_Type, &names)) {
        free(g);
        return NULL;
    }
    capsule = PyCapsule_New(g, CAPSULE, tables_free);
    if (!capsule) {
        free(g);
        return NULL;
    }
    Py_INCREF(names);
    g->names = names;
    /* Any failure below leaves NULLs that tables_free skips (free(NULL) is a no-op). */
    if (!(g->cl_off = int_array(o[0], NULL)) || !(g->cl_state = int_array(o[1], NULL))
        || !(g->cl_cost = double_array(o[2])) || !(g->cl_lab_off = int_array(o[3], NULL))
        || !(g->lab = int_array(o[4], NULL)) || !(g->tr_off = int_array(o[5], NULL))
        || !(g->tr_target = int_array(o[6], &ntr)) || !(g->lk_off = int_array(o[7], NULL))
        || !(g->lk_alt = int_array(o[8], NULL)) || !(g->least = double_array(o[10]))
        || !(g->acc = double_array(o[11]))) {
        Py_DECREF(capsule);
        return NULL;
    }
    {
        int *cp = int_array(o[9], &n_cp);
        if (!cp) {
            Py_DECREF(capsule);
            return NULL;
        }
        g->cp = (Py_UCS4 *)malloc(sizeof(Py_UCS4) * (n_cp ? n_cp : 1));
        for (i = 0; g->cp && i < n_cp; i++)
            g->cp[i] = (Py_UCS4)cp[i];
        free(cp);
    }
    if (reads_len != ntr * g->nchars || has_acc_len != g->n || n_cp != g->nchars) {
        Py_DECREF(capsule);
        PyErr_SetString(PyExc_ValueError, "ocr._decode.tables: inconsistent table sizes");
        return NULL;
    }
    g->tr_reads = (unsigned char *)malloc(reads_len ? reads_len : 1);
    g->has_acc = (unsigned char *)malloc(g->n);
    g->scratch = (int *)malloc(sizeof(int) * g->n);
    g->scratch2 = (int *)malloc(sizeof(int) * g->n);
    g->readable = (unsigned char *)malloc((size_t)g->n * g->nchars + 1);
    g->mv_start = (int *)malloc(sizeof(int) * ((size_t)g->n * g->nchars + 1));
    g->mv_len = (int *)malloc(sizeof(int) * ((size_t)g->n * g->nchars + 1));
    g->layer_state = (int *)malloc(sizeof(int) * 3 * g->n);
    g->layer_path = (int *)malloc(sizeof(int) * 3 * g->n);
    g->layer_cost = (double *)malloc(sizeof(double) * 3 * g->n);
    g->cf_start = (int *)malloc(sizeof(int) * ((size_t)g->n * g->nchars + 1));
    g->cf_len = (int *)malloc(sizeof(int) * ((size_t)g->n * g->nchars + 1));
    g->cl_accept = (int *)malloc(sizeof(int) * g->n);
    if (!g->cp || !g->tr_reads || !g->has_acc || !g->scratch || !g->scratch2 || !g->readable
        || !g->mv_start || !g->mv_len || !g->layer_state || !g->layer_path || !g->layer_cost
        || !g->cf_start || !g->cf_len || !g->cl_accept) {
        Py_DECREF(capsule);
        return PyErr_NoMemory();
    }
    memcpy(g->tr_reads, reads, reads_len);
    memcpy(g->has_acc, has_acc, g->n);
    for (i = 0; i < g->n; i++)
        g->scratch[i] = g->scratch2[i] = -1;
    for (i = 0; i < g->n * g->nchars; i++)
        g->mv_len[i] = g->cf_len[i] = -1;
    for (i = 0; i < g->n; i++) {
        int e;
        g->cl_accept[i] = -1;
        for (e = g->cl_off[i]; e < g->cl_off[i + 1]; e++)
            if (g->cl_state[e] == g->accept)
                g->cl_accept[i] = e;
    }
    for (i = 0; i < g->n; i++) {
        int c, tr, t;
        double swap;
        Py_UCS4 alt;
        for (c = 0; c < g->nchars; c++) {
            tr = g->tr_off[i];
            t = next_read(g, i, c, &tr, &swap, &alt);
            g->readable[(size_t)i * g->nchars + c] = t >= 0;
        }
    }
    return capsule;
}

/* --- Grammar.correct ------------------------------------------------------------------------ */
/* A reading's path: nodes of (parent, character written or NO_CHAR, label or -1), as the Python
 * code's nested (path, character, label) tuples; -1 is the empty path. */
typedef struct { int parent; Py_UCS4 ch; int label; } PathNode;
typedef struct { PathNode *node; int len, cap; } Paths;

static int path_add(Paths *p, int parent, Py_UCS4 ch, int label)
{
    if (p->len == p->cap) {
        int cap = p->cap ? 2 * p->cap : 256;
        PathNode *grown = (PathNode *)realloc(p->node, sizeof(PathNode) * cap);
        if (!grown)
            return -2;
        p->node = grown;
        p->cap = cap;
    }
    p->node[p->len].parent = parent;
    p->node[p->len].ch = ch;
    p->node[p->len].label = label;
    return p->len++;
}

/* A layer {state: (cost, path)} in insertion order; g->scratch maps a state to its slot while the
 * layer is being filled (reset by layer_seal). */
typedef struct { int *state, *path; double *cost; int len; } Layer;

/* _keep_cheapest: the first way into a state, or a strictly cheaper one, wins. */
static void layer_keep(const Tables *g, Layer *l, int s, double cost, int path)
{
    int slot = g->scratch[s];
    if (slot < 0) {
        slot = g->scratch[s] = l->len++;
        l->state[slot] = s;
    } else if (!(cost < l->cost[slot])) {
        return;
    }
    l->cost[slot] = cost;
    l->path[slot] = path;
}

static void layer_seal(const Tables *g, Layer *l)
{
    int i;
    for (i = 0; i < l->len; i++)
        g->scratch[l->state[i]] = -1;
}

/* Grammar._closure_list(s, c): sets *first to the entries of eclosure(s) whose state can read
 * character id c (all of them for the space, which may be dropped anywhere; the accepting state's
 * for the end, c < 0), in eclosure's order, and returns how many (-1: no memory). The space's and
 * the end's are ranges of the closure itself; the others are built once per state and character. */
static int closure_list(Tables *g, int s, int c, const int **first, int *from)
{
    size_t key = (size_t)s * g->nchars + c;
    int e;
    *first = NULL;
    *from = 0;
    if (c < 0) {
        *from = g->cl_accept[s];
        return *from >= 0;
    }
    if (c == g->space) {
        *from = g->cl_off[s];
        return g->cl_off[s + 1] - g->cl_off[s];
    }
    if (c >= g->nchars)
        return 0;
    if (g->cf_len[key] < 0) {
        int begin = g->cf_n;
        for (e = g->cl_off[s]; e < g->cl_off[s + 1]; e++) {
            if (!g->readable[(size_t)g->cl_state[e] * g->nchars + c])
                continue;
            if (grow_ints(&g->cf_entry, &g->cf_cap, g->cf_n, 1) < 0) {
                g->cf_n = begin;
                return -1;
            }
            g->cf_entry[g->cf_n++] = e;
        }
        g->cf_start[key] = begin;
        g->cf_len[key] = g->cf_n - begin;
    }
    *first = g->cf_entry + g->cf_start[key];
    return g->cf_len[key];
}

/* Grammar.closure(layer, then): into every state of each state's closure that can read character
 * id c (every state when c is the space, the accepting state only when c < 0: the end), the
 * cheapest way, labels added to the path as they are met. */
static int closure(Tables *g, const Layer *in, int c, Layer *out, Paths *paths)
{
    int i, j, k, count, from;
    const int *list;
    out->len = 0;
    for (i = 0; i < in->len; i++) {
        double cost = in->cost[i];
        if ((count = closure_list(g, in->state[i], c, &list, &from)) < 0)
            goto fail;
        for (j = 0; j < count; j++) {
            int e = list ? list[j] : from + j, t = g->cl_state[e], slot = g->scratch[t];
            double nc = cost + g->cl_cost[e];
            if (slot < 0 || nc < out->cost[slot]) {
                int into = in->path[i];
                for (k = g->cl_lab_off[e]; k < g->cl_lab_off[e + 1]; k++)
                    if ((into = path_add(paths, into, NO_CHAR, g->lab[k])) == -2)
                        goto fail;
                layer_keep(g, out, t, nc, into);
            }
        }
    }
    layer_seal(g, out);
    return 0;
fail:
    layer_seal(g, out);
    return -1;
}

/* (text, cost, [format names]) of a path, as formats._unwind. */
static PyObject *unwind(const Tables *g, const Paths *paths, int at, double cost)
{
    Py_ssize_t nch = 0, nlab = 0, len;
    int p;
    Py_UCS4 *buf;
    PyObject *text, *names;
    for (p = at; p >= 0; p = paths->node[p].parent) {
        nch += paths->node[p].ch != NO_CHAR;
        nlab += paths->node[p].label >= 0;
    }
    buf = (Py_UCS4 *)malloc(sizeof(Py_UCS4) * (nch ? nch : 1));
    names = PyList_New(nlab);
    if (!buf || !names) {
        free(buf);
        Py_XDECREF(names);
        return PyErr_NoMemory();
    }
    len = nch;
    for (p = at; p >= 0; p = paths->node[p].parent) {  /* filled from the end: the path runs back */
        if (paths->node[p].ch != NO_CHAR)
            buf[--nch] = paths->node[p].ch;
        if (paths->node[p].label >= 0) {
            PyObject *name = PyTuple_GET_ITEM(g->names, paths->node[p].label);
            Py_INCREF(name);
            PyList_SET_ITEM(names, --nlab, name);
        }
    }
    text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, len);
    free(buf);
    if (!text) {
        Py_DECREF(names);
        return NULL;
    }
    return Py_BuildValue("(NdN)", text, cost, names);
}

/* correct(tables, text, ids) -> (text, cost, [names]) or None; ids[i]: the character id of
 * text[i].upper() (nchars: one the grammar does not know). Grammar.correct, step for step. */
static PyObject *correct(PyObject *self, PyObject *args)
{
    PyObject *capsule, *text, *ids_in, *result = NULL;
    Tables *g;
    int *ids = NULL, *state, *path, i, k;
    double *cost;
    Py_ssize_t n;
    Layer layer, out, next, tmp;
    Paths paths = {0};
    (void)self;
    if (!PyArg_ParseTuple(args, "OUO", &capsule, &text, &ids_in))
        return NULL;
    if (!(g = (Tables *)PyCapsule_GetPointer(capsule, CAPSULE)) || !(ids = int_array(ids_in, &n)))
        return NULL;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) {
        free(ids);
        return NULL;
    }
#endif
    if (n != PyUnicode_GET_LENGTH(text)) {
        free(ids);
        PyErr_SetString(PyExc_ValueError, "ocr._decode.correct: one id per character");
        return NULL;
    }
    /* three layers (the current one, its closure, the next), each holding a state at most once */
    state = g->layer_state;
    path = g->layer_path;
    cost = g->layer_cost;
    layer.state = state; layer.path = path; layer.cost = cost;
    out.state = state + g->n; out.path = path + g->n; out.cost = cost + g->n;
    next.state = state + 2 * g->n; next.path = path + 2 * g->n; next.cost = cost + 2 * g->n;
    layer.len = 1;
    layer.state[0] = g->start;
    layer.cost[0] = 0.0;
    layer.path[0] = -1;
    for (i = 0; i < n; i++) {
        int c = ids[i], drop = c == g->space;
        Py_UCS4 ch = PyUnicode_READ_CHAR(text, i);
        if (closure(g, &layer, c, &out, &paths) < 0) {
            PyErr_NoMemory();
            goto done;
        }
        next.len = 0;
        for (k = 0; k < out.len; k++) {
            int s = out.state[k], t, tr = g->tr_off[s];
            double swap;
            Py_UCS4 alt;
            while ((t = next_read(g, s, c, &tr, &swap, &alt)) >= 0) {
                int slot = g->scratch[t];
                if (slot < 0 || out.cost[k] + swap < next.cost[slot]) {
                    int p = path_add(&paths, out.path[k], alt != NO_CHAR ? alt : ch, -1);
                    if (p == -2) {
                        layer_seal(g, &next);
                        PyErr_NoMemory();
                        goto done;
                    }
                    layer_keep(g, &next, t, out.cost[k] + swap, p);
                }
            }
            if (drop)
                layer_keep(g, &next, s, out.cost[k] + g->drop_cost, out.path[k]);
        }
        layer_seal(g, &next);
        if (!next.len) {
            Py_INCREF(Py_None);
            result = Py_None;
            goto done;
        }
        tmp = layer; layer = next; next = tmp;
    }
    if (closure(g, &layer, -1, &out, &paths) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (out.len) {  /* only the accepting state passes the end's closure */
        result = unwind(g, &paths, out.path[0], out.cost[0]);
    } else {
        Py_INCREF(Py_None);
        result = Py_None;
    }
done:
    free(paths.node);
    free(ids);
    return result;
}

/* --- ctc.constrained ------------------------------------------------------------------------ */
/* ctc._logadd, in its exact form. */
static double logadd(double a, double b)
{
    if (a == -INFINITY)
        return b;
    if (b == -INFINITY)
        return a;
    if (a >= b)
        return a + log(1.0 + exp(b - a));
    return b + log(exp(a - b) + 1.0);
}

/* The beam's prefixes as a trie: a node per distinct prefix string (the Python dicts' keys), with
 * its kernel (computed once, when its probability could first make the beam) and least cost. */
typedef struct {
    int parent, depth, first_child, next_sibling;
    Py_UCS4 ch;
    int cid;                  /* character id of ch */
    int kernel_off, kernel_len, stepped;
    double spent;
    int slot;                 /* its entry in the step's `nxt`, -1 when none */
} Prefix;

typedef struct {
    Prefix *node;
    int len, cap;
    int *k_state;             /* every kernel's (state, cost), one after another */
    double *k_cost;
    int k_len, k_cap;
} Trie;

static int trie_child(Trie *tr, int parent, Py_UCS4 ch, int cid)
{
    int c;
    Prefix *p;
    for (c = tr->node[parent].first_child; c >= 0; c = tr->node[c].next_sibling)
        if (tr->node[c].ch == ch)
            return c;
    if (tr->len == tr->cap) {
        int cap = 2 * tr->cap;
        Prefix *grown = (Prefix *)realloc(tr->node, sizeof(Prefix) * cap);
        if (!grown)
            return -1;
        tr->node = grown;
        tr->cap = cap;
    }
    p = &tr->node[tr->len];
    p->parent = parent;
    p->depth = tr->node[parent].depth + 1;
    p->ch = ch;
    p->cid = cid;
    p->first_child = -1;
    p->next_sibling = tr->node[parent].first_child;
    p->stepped = 0;
    p->kernel_off = p->kernel_len = 0;
    p->spent = 0.0;
    p->slot = -1;
    tr->node[parent].first_child = tr->len;
    return tr->len++;
}

static int kernel_room(Trie *tr, int more)
{
    if (tr->k_len + more > tr->k_cap) {
        int cap = 2 * (tr->k_len + more);
        int *s = (int *)realloc(tr->k_state, sizeof(int) * cap);
        double *c;
        if (!s)
            return -1;
        tr->k_state = s;
        c = (double *)realloc(tr->k_cost, sizeof(double) * cap);
        if (!c)
            return -1;
        tr->k_cost = c;
        tr->k_cap = cap;
    }
    return 0;
}

/* Grammar.least_cost of a kernel. */
static double least_cost(const Tables *g, const Trie *tr, const Prefix *p)
{
    double best = INFINITY;
    int i;
    for (i = p->kernel_off; i < p->kernel_off + p->kernel_len; i++)
        if (tr->k_cost[i] + g->least[tr->k_state[i]] < best)
            best = tr->k_cost[i] + g->least[tr->k_state[i]];
    return best;
}

/* Grammar._moves_from(s)[c]: the states reading c leads to from s's closure, each by its
 * cheapest closure cost, in the order first met; built once per state and character. Sets
 * *start (into mv_state/mv_cost) and returns the count, or -1 on lack of memory. */
static int moves(Tables *g, int s, int c, int *start)
{
    size_t key = (size_t)s * g->nchars + c;
    int e, tr, i, begin;
    if (c < 0 || c >= g->nchars) {
        *start = 0;
        return 0;
    }
    if (g->mv_len[key] < 0) {
        begin = g->mv_n;
        for (e = g->cl_off[s]; e < g->cl_off[s + 1]; e++) {
            int u = g->cl_state[e];
            double cu = g->cl_cost[e];
            for (tr = g->tr_off[u]; tr < g->tr_off[u + 1]; tr++) {
                int v, slot;
                if (!g->tr_reads[(size_t)tr * g->nchars + c])
                    continue;
                v = g->tr_target[tr];
                slot = g->scratch2[v];
                if (slot < 0) {  /* _keep_cheapest: the first, or a strictly cheaper one */
                    if (g->mv_n == g->mv_cap) {
                        int cap = g->mv_cap ? 2 * g->mv_cap : 1024;
                        int *ms = (int *)realloc(g->mv_state, sizeof(int) * cap);
                        double *mc;
                        if (ms)
                            g->mv_state = ms;
                        mc = ms ? (double *)realloc(g->mv_cost, sizeof(double) * cap) : NULL;
                        if (!mc) {
                            for (i = begin; i < g->mv_n; i++)
                                g->scratch2[g->mv_state[i]] = -1;
                            g->mv_n = begin;
                            return -1;
                        }
                        g->mv_cost = mc;
                        g->mv_cap = cap;
                    }
                    slot = g->scratch2[v] = g->mv_n++;
                    g->mv_state[slot] = v;
                    g->mv_cost[slot] = cu;
                } else if (cu < g->mv_cost[slot]) {
                    g->mv_cost[slot] = cu;
                }
            }
        }
        for (i = begin; i < g->mv_n; i++)
            g->scratch2[g->mv_state[i]] = -1;
        g->mv_start[key] = begin;
        g->mv_len[key] = g->mv_n - begin;
    }
    *start = g->mv_start[key];
    return g->mv_len[key];
}

/* Grammar.step(kernel of the parent, ch) into node x's kernel ({}: dead), and its least cost. */
static int step(Tables *g, Trie *tr, int x)
{
    Prefix *p = &tr->node[x];
    const Prefix *up = &tr->node[p->parent];
    int i, j, start = tr->k_len, c = p->cid;
    p->stepped = 1;
    for (i = up->kernel_off; i < up->kernel_off + up->kernel_len; i++) {
        double cost = tr->k_cost[i];
        int first, n = moves(g, tr->k_state[i], c, &first);
        if (n < 0)
            goto fail;
        for (j = first; j < first + n; j++) {
            int v = g->mv_state[j], slot = g->scratch[v];
            double nc = cost + g->mv_cost[j];
            if (slot < 0) {
                if (!(nc < INFINITY))
                    continue;
                if (kernel_room(tr, 1) < 0)
                    goto fail;
                slot = g->scratch[v] = tr->k_len++;
                tr->k_state[slot] = v;
                tr->k_cost[slot] = nc;
            } else if (nc < tr->k_cost[slot]) {
                tr->k_cost[slot] = nc;
            }
        }
    }
    p->kernel_off = start;
    p->kernel_len = tr->k_len - start;
    for (i = start; i < tr->k_len; i++)
        g->scratch[tr->k_state[i]] = -1;
    if (p->kernel_len)
        p->spent = least_cost(g, tr, p);
    return 0;
fail:
    for (i = start; i < tr->k_len; i++)
        g->scratch[tr->k_state[i]] = -1;
    return -1;
}

/* Python's str comparison of two prefixes: -1, 0 or 1. Ties of score are rare, so the strings
 * are spelled out only then. */
static int prefix_cmp(const Trie *tr, int a, int b)
{
    int da = tr->node[a].depth, db = tr->node[b].depth, n = da < db ? da : db, i, res = 0;
    Py_UCS4 *sa = (Py_UCS4 *)malloc(sizeof(Py_UCS4) * (da + db + 1)), *sb = sa + da;
    if (!sa)  /* cannot happen in practice; fall back on a fixed order */
        return (a > b) - (a < b);
    for (i = da - 1; i >= 0; i--, a = tr->node[a].parent)
        sa[i] = tr->node[a].ch;
    for (i = db - 1; i >= 0; i--, b = tr->node[b].parent)
        sb[i] = tr->node[b].ch;
    for (i = 0; i < n && !res; i++)
        res = (sa[i] > sb[i]) - (sa[i] < sb[i]);
    if (!res)
        res = (da > db) - (da < db);
    free(sa);
    return res;
}

/* A heap entry (score, prefix) and tuple comparison: the scores, or when equal the strings. */
typedef struct { double score; int node; } Entry;

static int entry_lt(const Trie *tr, Entry a, Entry b)
{
    if (a.score != b.score)
        return a.score < b.score;
    return prefix_cmp(tr, a.node, b.node) < 0;
}

/* heapq's _siftdown and _siftup (CPython's C heapq, the same moves as its Python version). */
static void sift_down(const Trie *tr, Entry *heap, int startpos, int pos)
{
    Entry item = heap[pos];
    while (pos > startpos) {
        int parentpos = (pos - 1) >> 1;
        if (!entry_lt(tr, item, heap[parentpos]))
            break;
        heap[pos] = heap[parentpos];
        pos = parentpos;
    }
    heap[pos] = item;
}

static void sift_up(const Trie *tr, Entry *heap, int len, int pos)
{
    int startpos = pos, limit = len >> 1;
    Entry item = heap[pos];
    while (pos < limit) {
        int child = 2 * pos + 1;
        if (child + 1 < len && !entry_lt(tr, heap[child], heap[child + 1]))
            child++;
        heap[pos] = heap[child];
        pos = child;
    }
    heap[pos] = item;
    sift_down(tr, heap, startpos, pos);
}

/* The beam and the step's `nxt`: prefixes with [log P ending in blank, ending in a label], in
 * insertion order. */
typedef struct { int *node; double *pb, *pnb; int len; } Beams;

/* nxt.get(prefix) or a new entry [pb, pnb] at the end. */
static int nxt_slot(Trie *tr, Beams *nxt, int x, double pb, double pnb, int *fresh)
{
    int slot = tr->node[x].slot;
    *fresh = slot < 0;
    if (slot < 0) {
        slot = tr->node[x].slot = nxt->len++;
        nxt->node[slot] = x;
        nxt->pb[slot] = pb;
        nxt->pnb[slot] = pnb;
    }
    return slot;
}

/* Stable merge sort of idx[0..n) by key ascending (Python's sorted(key=...)). */
static void merge_sort(int *idx, int *tmp, const double *key, int n)
{
    int i, j, k, mid;
    if (n < 2)
        return;
    mid = n / 2;
    merge_sort(idx, tmp, key, mid);
    merge_sort(idx + mid, tmp, key, n - mid);
    for (i = 0, j = mid, k = 0; i < mid && j < n;)
        tmp[k++] = key[idx[j]] < key[idx[i]] ? idx[j++] : idx[i++];
    while (i < mid)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, sizeof(int) * n);
}

/* ctc._rank: the next beam, in the heap's array order. Returns -1 on lack of memory. */
static int rank(Tables *g, Trie *tr, Beams *nxt, Beams *beams, int beam, double prior_weight,
                double *lp, int *order, int *tmp, Entry *kept)
{
    int i, nk = 0;
    for (i = 0; i < nxt->len; i++) {
        lp[i] = -logadd(nxt->pb[i], nxt->pnb[i]);  /* the sort key: -logp */
        order[i] = i;
    }
    merge_sort(order, tmp, lp, nxt->len);
    for (i = 0; i < nxt->len; i++) {
        int slot = order[i], x = nxt->node[slot];
        double logp = -lp[slot];
        Entry entry;
        if (nk == beam && logp <= kept[0].score)
            break;  /* neither this prefix nor any less probable one can score higher */
        if (!tr->node[x].stepped && step(g, tr, x) < 0)
            return -1;
        if (!tr->node[x].kernel_len)
            continue;
        entry.score = logp - prior_weight * tr->node[x].spent;
        entry.node = x;
        if (nk < beam) {
            kept[nk++] = entry;
            sift_down(tr, kept, 0, nk - 1);
        } else if (entry_lt(tr, kept[0], entry)) {  /* entry > kept[0] */
            kept[0] = entry;
            sift_up(tr, kept, nk, 0);
        }
    }
    for (i = 0; i < nk; i++) {
        int slot = tr->node[kept[i].node].slot;
        beams->node[i] = kept[i].node;
        beams->pb[i] = nxt->pb[slot];
        beams->pnb[i] = nxt->pnb[slot];
    }
    beams->len = nk;
    for (i = 0; i < nxt->len; i++)
        tr->node[nxt->node[i]].slot = -1;
    return 0;
}

static PyObject *prefix_str(const Trie *tr, int x)
{
    int d = tr->node[x].depth, i;
    Py_UCS4 *buf = (Py_UCS4 *)malloc(sizeof(Py_UCS4) * (d ? d : 1));
    PyObject *s;
    if (!buf)
        return PyErr_NoMemory();
    for (i = d - 1; i >= 0; i--, x = tr->node[x].parent)
        buf[i] = tr->node[x].ch;
    s = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, d);
    free(buf);
    return s;
}

/* ctc._best: the accepted prefix of the final beam with the best score, or -1. */
static int best_prefix(const Tables *g, const Trie *tr, const Beams *beams, double prior_weight)
{
    int best = -1, i, j;
    double best_score = -INFINITY;
    for (i = 0; i < beams->len; i++) {
        const Prefix *p = &tr->node[beams->node[i]];
        double cost = 0.0, score;
        int found = 0;
        for (j = p->kernel_off; j < p->kernel_off + p->kernel_len; j++) {
            int s = tr->k_state[j];
            if (g->has_acc[s] && (!found || tr->k_cost[j] + g->acc[s] < cost)) {
                cost = tr->k_cost[j] + g->acc[s];
                found = 1;
            }
        }
        if (!found)
            continue;
        score = logadd(beams->pb[i], beams->pnb[i]) - prior_weight * cost;
        if (score > best_score) {
            best = beams->node[i];
            best_score = score;
        }
    }
    return best;
}

/* One step with candidates (ctc.constrained's `else` branch): every path's probability summed
 * into its prefix. */
static int grow(Trie *tr, const Beams *beams, Beams *nxt, const float *row, const int *ks, int nk,
                const Py_UCS4 *cp, const int *cids)
{
    int b, j, fresh;
    double blank = row[0];
    nxt->len = 0;
    for (b = 0; b < beams->len; b++) {
        int x = beams->node[b], slot;
        double pb = beams->pb[b], pnb = beams->pnb[b], total = logadd(pb, pnb);
        Py_UCS4 last = tr->node[x].depth ? tr->node[x].ch : NO_CHAR;
        slot = nxt_slot(tr, nxt, x, total + blank, -INFINITY, &fresh);
        if (!fresh)
            nxt->pb[slot] = logadd(nxt->pb[slot], total + blank);
        for (j = 0; j < nk; j++) {
            int k = ks[j], grown;
            double p;
            if (last == cp[k]) {  /* a repeat collapses; a new one needs a blank between */
                slot = tr->node[x].slot;
                nxt->pnb[slot] = logadd(nxt->pnb[slot], pnb + row[k]);
                p = pb + row[k];
            } else {
                p = total + row[k];
            }
            if ((grown = trie_child(tr, x, cp[k], cids[k])) < 0)
                return -1;
            slot = nxt_slot(tr, nxt, grown, -INFINITY, p, &fresh);
            if (!fresh)
                nxt->pnb[slot] = logadd(nxt->pnb[slot], p);
        }
    }
    return 0;
}

/* A run of blank steps from step t (the row already taken) to `end` (ctc.constrained's first
 * branch): summed at once unless that makes two prefixes tie, then one step only. Returns the
 * next step. */
static int blanks(Trie *tr, const Beams *beams, Beams *nxt, const float *logp, int C, int t, int end)
{
    int b, i, j, tie = 0, step;
    nxt->len = 0;
    for (b = 0; b < beams->len; b++) {
        double total = logadd(beams->pb[b], beams->pnb[b]) + logp[(size_t)(t - 1) * C];
        for (step = t; step < end; step++)
            total += logp[(size_t)step * C];
        nxt->node[b] = beams->node[b];
        tr->node[beams->node[b]].slot = b;
        nxt->pb[b] = total;
        nxt->pnb[b] = -INFINITY;
    }
    nxt->len = beams->len;
    for (i = 0; end > t && i < nxt->len && !tie; i++)
        for (j = 0; j < i && !tie; j++)
            tie = nxt->pb[i] == nxt->pb[j];
    if (!tie)
        return end;
    for (b = 0; b < beams->len; b++)
        nxt->pb[b] = logadd(beams->pb[b], beams->pnb[b]) + logp[(size_t)(t - 1) * C];
    return t;
}

/* constrained(tables, probs, logp, prune, cp, cids, beam, prior_weight) -> the best accepted
 * prefix or None. probs and logp = log(max(probs, 1e-12)): T x C float32 as numpy made them (the
 * Python code reads the same numbers as doubles); a class is a candidate at a step when its
 * probability is at least `prune` compared in float32, as numpy compares a float32 array with a
 * Python float. cp[k], cids[k]: class k's upper-case code point and character id.
 * ctc.constrained, step for step. */
static PyObject *constrained(PyObject *self, PyObject *args)
{
    PyObject *capsule, *probs_obj, *logp_obj, *cp_in, *cids_in, *result = NULL;
    Py_buffer pv, lv;
    Tables *g;
    int beam, T = 0, C = 0, t, k, i, cap, *classes = NULL, *cp_int = NULL, *cids = NULL;
    int *cand_off = NULL, *order = NULL, *tmp = NULL;
    Py_ssize_t ncp, ncid;
    double prior_weight, prune, *lp = NULL;
    float prune32;
    const float *logp, *probs;
    Py_UCS4 *cp = NULL;
    Trie tr = {0};
    Beams beams = {0}, nxt = {0};
    Entry *kept = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOdOOid", &capsule, &probs_obj, &logp_obj, &prune, &cp_in, &cids_in,
                          &beam, &prior_weight))
        return NULL;
    if (!(g = (Tables *)PyCapsule_GetPointer(capsule, CAPSULE)))
        return NULL;
    if (float_matrices("constrained", probs_obj, &pv, logp_obj, &lv) < 0)
        return NULL;
    if (lv.shape[0] != pv.shape[0] || lv.shape[1] != pv.shape[1] || beam < 1) {
        PyErr_SetString(PyExc_ValueError, "ocr._decode.constrained: probs and logp of one shape, beam >= 1");
        goto done;
    }
    T = (int)pv.shape[0];
    C = (int)pv.shape[1];
    probs = (const float *)pv.buf;
    logp = (const float *)lv.buf;
    prune32 = (float)prune;
    if (!(cp_int = int_array(cp_in, &ncp)) || !(cids = int_array(cids_in, &ncid)))
        goto done;
    if (ncp < C || ncid < C) {
        PyErr_SetString(PyExc_ValueError, "ocr._decode.constrained: one code point per class");
        goto done;
    }
    cp = (Py_UCS4 *)malloc(sizeof(Py_UCS4) * ncp);
    cand_off = (int *)calloc(T + 1, sizeof(int));
    classes = (int *)malloc(sizeof(int) * ((size_t)T * C + 1));
    /* nxt holds each beam prefix and one child per candidate class at most */
    cap = beam * (C + 1) + 1;
    nxt.node = (int *)malloc(sizeof(int) * cap);
    nxt.pb = (double *)malloc(sizeof(double) * cap);
    nxt.pnb = (double *)malloc(sizeof(double) * cap);
    beams.node = (int *)malloc(sizeof(int) * (beam + 1));
    beams.pb = (double *)malloc(sizeof(double) * (beam + 1));
    beams.pnb = (double *)malloc(sizeof(double) * (beam + 1));
    lp = (double *)malloc(sizeof(double) * cap);
    order = (int *)malloc(sizeof(int) * cap);
    tmp = (int *)malloc(sizeof(int) * cap);
    kept = (Entry *)malloc(sizeof(Entry) * beam);
    tr.cap = 256;
    tr.node = (Prefix *)malloc(sizeof(Prefix) * tr.cap);
    if (!cp || !cand_off || !classes || !nxt.node || !nxt.pb || !nxt.pnb || !beams.node || !beams.pb
        || !beams.pnb || !lp || !order || !tmp || !kept || !tr.node || kernel_room(&tr, 16) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < ncp; i++)
        cp[i] = (Py_UCS4)cp_int[i];
    for (t = 0, i = 0; t < T; t++) {  /* per step its candidates: classes[cand_off[t]..cand_off[t+1]) */
        for (k = 1; k < C; k++)
            if (probs[(size_t)t * C + k] >= prune32)
                classes[i++] = k;
        cand_off[t + 1] = i;
    }
    /* the empty prefix: the start state's kernel */
    tr.len = 1;
    tr.node[0].parent = -1;
    tr.node[0].depth = 0;
    tr.node[0].first_child = tr.node[0].next_sibling = -1;
    tr.node[0].ch = NO_CHAR;
    tr.node[0].cid = -1;
    tr.node[0].stepped = 1;
    tr.node[0].slot = -1;
    tr.node[0].kernel_off = 0;
    tr.node[0].kernel_len = 1;
    tr.k_state[0] = g->start;
    tr.k_cost[0] = 0.0;
    tr.k_len = 1;
    tr.node[0].spent = least_cost(g, &tr, &tr.node[0]);
    beams.len = 1;
    beams.node[0] = 0;
    beams.pb[0] = 0.0;
    beams.pnb[0] = -INFINITY;
    t = 0;
    while (t < T) {
        int nc = cand_off[t + 1] - cand_off[t];
        const float *row = logp + (size_t)t * C;
        t++;
        if (!nc) {
            int end = t;
            while (end < T && cand_off[end + 1] == cand_off[end])
                end++;
            t = blanks(&tr, &beams, &nxt, logp, C, t, end);
        } else if (grow(&tr, &beams, &nxt, row, classes + cand_off[t - 1], nc, cp, cids) < 0) {
            PyErr_NoMemory();
            goto done;
        }
        if (rank(g, &tr, &nxt, &beams, beam, prior_weight, lp, order, tmp, kept) < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    i = best_prefix(g, &tr, &beams, prior_weight);
    if (i < 0) {
        Py_INCREF(Py_None);
        result = Py_None;
    } else {
        result = prefix_str(&tr, i);
    }
done:
    PyBuffer_Release(&pv);
    PyBuffer_Release(&lv);
    free(classes); free(cp_int); free(cids); free(cp); free(cand_off);
    free(nxt.node); free(nxt.pb); free(nxt.pnb); free(beams.node); free(beams.pb); free(beams.pnb);
    free(lp); free(order); free(tmp); free(kept); free(tr.node); free(tr.k_state); free(tr.k_cost);
    return result;
}

/* --- ctc.align -------------------------------------------------------------------------------- */
/* numpy's argmax of a float32 row: the first maximum, or the first NaN were there one (a NaN
 * never compares greater, so it is looked for only when the row holds one). */
static int argmax_row(const float *row, int C)
{
    int k, best = 0, nan = 0;
    float top = row[0];
    for (k = 1; k < C; k++) {
        float v = row[k];
        nan |= v != v;
        if (v > top) {
            top = v;
            best = k;
        }
    }
    if (nan || top != top)
        for (k = 0; k < C; k++)
            if (row[k] != row[k])
                return k;
    return best;
}

/* greedy(probs, best_frame) -> (labels, per-label probability): ctc.greedy for float32 T x C
 * (T >= 1). A label starts where the best class is no blank and differs from the frame before;
 * its probability is its run's best frame, or its first frame when not best_frame. */
static PyObject *greedy(PyObject *self, PyObject *args)
{
    PyObject *probs_obj, *labels = NULL, *conf = NULL, *result = NULL;
    Py_buffer pv;
    int best_frame, T, C, t, n = 0, prev = 0, *lab = NULL;
    float *best = NULL;
    const float *probs;
    (void)self;
    if (!PyArg_ParseTuple(args, "Op", &probs_obj, &best_frame))
        return NULL;
    if (float_matrices("greedy", probs_obj, &pv, NULL, NULL) < 0)
        return NULL;
    if (pv.shape[0] < 1 || pv.shape[1] < 1) {
        PyErr_SetString(PyExc_ValueError, "ocr._decode.greedy: probs T x C, T, C >= 1");
        goto done;
    }
    T = (int)pv.shape[0];
    C = (int)pv.shape[1];
    probs = (const float *)pv.buf;
    lab = (int *)malloc(sizeof(int) * T);
    best = (float *)malloc(sizeof(float) * T);
    if (!lab || !best) {
        PyErr_NoMemory();
        goto done;
    }
    for (t = 0; t < T; t++) {
        int k = argmax_row(probs + (size_t)t * C, C);
        float p = probs[(size_t)t * C + k];
        if (k != 0 && k != prev) {
            lab[n] = k;
            best[n++] = p;
        } else if (k != 0 && best_frame && (p > best[n - 1] || p != p)) {
            best[n - 1] = p;  /* a NaN stays, as in np.maximum */
        }
        prev = k;
    }
    if (!(labels = PyList_New(n)) || !(conf = PyList_New(n)))
        goto done;
    for (t = 0; t < n; t++) {
        PyObject *k = PyLong_FromLong(lab[t]), *p = PyFloat_FromDouble((double)best[t]);
        if (!k || !p) {
            Py_XDECREF(k);
            Py_XDECREF(p);
            goto done;
        }
        PyList_SET_ITEM(labels, t, k);
        PyList_SET_ITEM(conf, t, p);
    }
    result = Py_BuildValue("(OO)", labels, conf);
done:
    PyBuffer_Release(&pv);
    Py_XDECREF(labels);
    Py_XDECREF(conf);
    free(lab);
    free(best);
    return result;
}

/* ctc._top_path: when the frames' best path reads `labels` and beats, frame by frame, every
 * state of another class, its (per-label probability, log-probability) into conf/total; 0 when
 * that does not hold (the search decides). probs T x C, logp T x S (float32, as numpy made them). */
static int top_path(const float *probs, const float *logp, int T, int C, const int *ext, int S,
                    double *conf, double *total)
{
    int t, s, prev = 0, n = 0, L = S / 2;
    double sum = 0.0;
    for (t = 0; t < T; t++) {
        int k = argmax_row(probs + (size_t)t * C, C), state;
        float on, others = -INFINITY, p = probs[(size_t)t * C + k];
        if (k != 0 && k != prev) {  /* a label starts: the next one of `labels`? */
            if (n == L || ext[2 * n + 1] != k)
                return 0;
            conf[n++] = p;
        } else if (k != 0 && p > conf[n - 1]) {  /* its run's best frame */
            conf[n - 1] = p;
        }
        prev = k;
        state = 2 * n - (k != 0);  /* a label's state on its frames, the blank's between */
        on = logp[(size_t)t * S + state];
        for (s = 0; s < S; s++)
            if (ext[s] != k && logp[(size_t)t * S + s] > others)
                others = logp[(size_t)t * S + s];
        if (!(on > others))
            return 0;
        sum += (double)on;  /* in frame order, as the Python sum adds them */
    }
    if (n != L)
        return 0;
    *total = sum;
    return 1;
}

/* align(probs, logp, ext, skip) -> (per-label probabilities, log-probability) or None: ctc.align
 * for a non-empty label sequence given ctc._extended's ext, logp (T x S float32) and skip (one
 * byte a state), the top path first, else the Viterbi search and its way back; NotImplemented
 * when logp holds a NaN (the Python code then decides). */
static PyObject *align(PyObject *self, PyObject *args)
{
    PyObject *probs_obj, *logp_obj, *ext_in, *result = NULL, *list;
    const char *skip;
    Py_ssize_t skip_len, S_in;
    Py_buffer pv, lv;
    int *ext = NULL, T, C, S, L, t, s, end;
    double *conf = NULL, *sc = NULL, *jump = NULL, total;
    const float *probs, *logp;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOy#", &probs_obj, &logp_obj, &ext_in, &skip, &skip_len))
        return NULL;
    if (float_matrices("align", probs_obj, &pv, logp_obj, &lv) < 0)
        return NULL;
    if (!(ext = int_array(ext_in, &S_in)))
        goto done;
    T = (int)pv.shape[0];
    C = (int)pv.shape[1];
    S = (int)S_in;
    L = S / 2;
    if (lv.shape[0] != T || lv.shape[1] != S || skip_len != S || S < 3 || T < 1) {
        PyErr_SetString(PyExc_ValueError, "ocr._decode.align: probs T x C, logp T x S, S >= 3");
        goto done;
    }
    probs = (const float *)pv.buf;
    logp = (const float *)lv.buf;
    conf = (double *)calloc(L, sizeof(double));
    if (!conf) {
        PyErr_NoMemory();
        goto done;
    }
    if (!top_path(probs, logp, T, C, ext, S, conf, &total)) {
        /* Forward scores of every step, as ctc.align's: sc[t][s + 2], two -inf columns first. */
        int W = S + 2;
        for (t = 0; t < T * S; t++)
            if (logp[t] != logp[t]) {  /* NaN probabilities: numpy's maximum spreads them; Python decides */
                Py_INCREF(Py_NotImplemented);
                result = Py_NotImplemented;
                goto done;
            }
        memset(conf, 0, sizeof(double) * L);  /* the failed top path may have written some */
        sc = (double *)malloc(sizeof(double) * (size_t)T * W);
        jump = (double *)malloc(sizeof(double) * S);
        if (!sc || !jump) {
            PyErr_NoMemory();
            goto done;
        }
        for (s = 0; s < S; s++)
            jump[s] = skip[s] ? 0.0 : -INFINITY;
        for (s = 0; s < W; s++)
            sc[s] = -INFINITY;
        sc[2] = (double)logp[0];
        sc[3] = (double)logp[1];
        for (t = 1; t < T; t++) {
            const double *prev = sc + (size_t)(t - 1) * W;
            double *row = sc + (size_t)t * W;
            row[0] = row[1] = -INFINITY;
            for (s = 0; s < S; s++) {  /* stay, from s - 1, from s - 2 where allowed */
                double best = prev[s + 2] > prev[s + 1] ? prev[s + 2] : prev[s + 1];
                double hop = prev[s] + jump[s];
                row[s + 2] = (best > hop ? best : hop) + (double)logp[(size_t)t * S + s];
            }
        }
        {   /* ctc._best_end, then ctc._walk_back with came_back's first-best rule */
            const double *score = sc + (size_t)(T - 1) * W + 2;
            end = score[S - 1] >= score[S - 2] ? S - 1 : S - 2;
            if (!isfinite(score[end])) {
                Py_INCREF(Py_None);
                result = Py_None;
                goto done;
            }
            total = score[end];
        }
        for (s = end, t = T - 1; t >= 0; t--) {
            if (s % 2 == 1) {
                double p = (double)probs[(size_t)t * C + ext[s]];
                if (p > conf[s / 2])
                    conf[s / 2] = p;
            }
            if (t) {
                const double *prev = sc + (size_t)(t - 1) * W;
                double stay = prev[s + 2], step = prev[s + 1], hop = prev[s] + jump[s];
                s -= stay >= step && stay >= hop ? 0 : (step >= hop ? 1 : 2);
            }
        }
    }
    list = PyList_New(L);
    if (!list)
        goto done;
    for (s = 0; s < L; s++) {
        PyObject *v = PyFloat_FromDouble(conf[s]);
        if (!v) {
            Py_DECREF(list);
            goto done;
        }
        PyList_SET_ITEM(list, s, v);
    }
    result = Py_BuildValue("(Nd)", list, total);
done:
    PyBuffer_Release(&pv);
    PyBuffer_Release(&lv);
    free(ext); free(conf); free(sc); free(jump);
    return result;
}

static PyMethodDef methods[] = {
    {"tables", tables, METH_VARARGS, "A grammar's tables (ocr/compiled.py packs them) -> capsule."},
    {"correct", correct, METH_VARARGS, "Grammar.correct over packed tables."},
    {"constrained", constrained, METH_VARARGS, "ctc.constrained's beam over packed tables."},
    {"align", align, METH_VARARGS, "ctc.align over ctc._extended's tables."},
    {"greedy", greedy, METH_VARARGS, "ctc.greedy for float32 probabilities."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_decode",
    "The format-aware decoder's hot loops (ocr/_decode.c); ocr/compiled.py is its Python face.",
    -1, methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__decode(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "VERSION", VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
