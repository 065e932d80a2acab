/* Geocoding against the address base, and reverse geocoding.
 *
 * An index (gf_gc_index) is built once from any number of BAL/BAN files by
 * running the usual pipeline (reader -> typing -> reproject) into the index
 * builder sink, then frozen. Frozen, it is read-only and shared by every
 * worker; each worker owns a gf_gc_scratch for its query-time buffers. It
 * can be saved to one flat file and memory-mapped back (native byte order:
 * a file is only read back on the kind of machine that wrote it).
 *
 * What the index holds, per commune (INSEE code): its names (and former
 * commune / hamlet names: commune_deleguee_nom, La Poste's ligne_5),
 * postcodes and a position; its streets and places (BAL/BAN toponyms,
 * numero 99999, and lieu-dit complements) under a normalised name; and its
 * addresses (number, suffix, cle_interop, position) sorted by street and
 * number. Communes are found by INSEE code, by postcode (from BAN rows and
 * the La Poste base) or by normalised name. */
#ifndef GEOFLUX_GEOCODE_H
#define GEOFLUX_GEOCODE_H

#include <stddef.h>
#include <stdint.h>
#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gf_gc_index gf_gc_index;
typedef struct gf_gc_builder gf_gc_builder;
typedef struct gf_gc_scratch gf_gc_scratch;

/* ---- building ----------------------------------------------------------- */

/* Creates an empty builder. Caller frees with gf_gc_builder_destroy() unless
 * it was handed to a pipeline as a sink (see gf_gc_builder_sink_vt). */
gf_status gf_gc_builder_create(gf_ctx *ctx, gf_gc_builder **out);
void gf_gc_builder_destroy(gf_gc_builder *b);

/* Sink that inserts every committed address row (canonical address schema,
 * positions in b->lon/b->lat: put it after gf_reproject_stage_vt). Commit
 * is serial and in input order, so ids are deterministic. State = the
 * builder; the pipeline takes ownership of it, so keep a borrowed pointer
 * and call gf_gc_builder_finish() before destroying the pipeline. */
extern const gf_sink_vt gf_gc_builder_sink_vt;

/* Adds the La Poste postcode base (CSV, gzip or not, header
 * code_commune_insee,nom_de_la_commune,code_postal,...,latitude,longitude):
 * postcodes of every commune, and a position for communes without
 * addresses. May be called before or after the address rows. */
gf_status gf_gc_builder_add_postcodes(gf_gc_builder *b, gf_ctx *ctx, const char *path);

/* Freezes the builder into an index (the builder is emptied but must still
 * be destroyed by its owner). Caller frees the index with
 * gf_gc_index_destroy(). */
gf_status gf_gc_builder_finish(gf_gc_builder *b, gf_ctx *ctx, gf_gc_index **out);

/* Builds an index from address files (BAL/BAN, gzip ok) and an optional La
 * Poste file. The rows are validated as `convert` validates them, and a row
 * convert would reject is not indexed (each is logged as convert logs it,
 * gf_gc_stats counts them), unless prevalidated says geoflux validated them
 * already (a publication's rows). */
typedef struct gf_gc_build_opts {
    const char *const *paths;
    int npaths;
    const char *postcodes; /* NULL: none */
    int threads;           /* <= 0: all cores */
    int prevalidated;
} gf_gc_build_opts;
gf_status gf_gc_index_build(gf_ctx *ctx, const gf_gc_build_opts *o, gf_gc_index **out);

/* Writes the index to path (atomically). */
gf_status gf_gc_index_save(const gf_gc_index *ix, gf_ctx *ctx, const char *path);
/* Maps an index file. GF_ERR_PARSE when it is not one (or from another
 * version or byte order). Caller frees with gf_gc_index_destroy(). */
gf_status gf_gc_index_load(gf_ctx *ctx, const char *path, gf_gc_index **out);
void gf_gc_index_destroy(gf_gc_index *ix);

typedef struct gf_gc_stats {
    uint64_t communes, streets, addresses, postcodes, trigrams;
    size_t bytes; /* memory held (or mapped) */
    /* of the build (0 for a loaded index): the address rows read, and those
     * not indexed because they break a BAL rule */
    uint64_t rows_read, rows_rejected;
} gf_gc_stats;
void gf_gc_index_stats(const gf_gc_index *ix, gf_gc_stats *out);

/* ---- querying ------------------------------------------------------------- */

typedef enum gf_gc_type {
    GF_GC_NONE = 0,
    GF_GC_HOUSENUMBER,
    GF_GC_STREET,
    GF_GC_LOCALITY,
    GF_GC_MUNICIPALITY
} gf_gc_type;

/* "housenumber", "street", "locality", "municipality", "" */
const char *gf_gc_type_name(gf_gc_type t);

/* A parsed query: free text (q) plus optional filters, as both the CSV
 * stage and an HTTP /search build it. Every pointer is borrowed and may be
 * NULL; lengths are in bytes (no NUL needed). A zeroed struct is an empty
 * query without filter or bias. */
typedef struct gf_gc_query {
    const char *q; size_t qlen;               /* "12 bis r. de la Paix 31000 Toulouse", words in any order */
    const char *postcode; size_t postcodelen; /* filter */
    const char *citycode; size_t citycodelen; /* INSEE filter */
    const char *city; size_t citylen;         /* commune name, when it is a column of its own */
    gf_gc_type type;                          /* filter: only results of this type (GF_GC_NONE: any) */
    int has_bias; double lon, lat;            /* a position (WGS84) near which equally good names rank first */
    int prefix;                               /* autocomplete: the last word of q may be unfinished (below) */
} gf_gc_query;

/* Autocompletion (prefix, set by /completion and /search?autocomplete=1;
 * the CSV geocoder leaves it 0, whole words): when q's last word belongs to
 * the street part (no postcode or commune after it, no blank typed after
 * it), the streets whose normalised name starts with the street words, the
 * last one as typed, are candidates too ("8 bd louis pa": 8 Boulevard Louis
 * Pasteur), in the communes the query names or, when it names none, in the
 * whole index. Their text score is 0.7 + 0.3 x (typed length / name
 * length), the length being that of the name after its street type; in the
 * whole index the commune confidence is 0.9. Cost is bounded: a prefix
 * looks at GC_PREFIX_SCAN (256) names at most per commune, the first in
 * alphabetical order, so a prefix of one or two letters gives some of the
 * streets it could complete to, not the best of all of them.
 * Without prefix, a query that names no commune (no city, postcode or
 * citycode, in q or apart; with a bias, no commune within 10 km of it)
 * looks the same way in the whole
 * index for the streets whose name is the street words, whole ("rue des
 * acacias": also the Rue des Acacias Prolongée, scored lower), confidence
 * 0.9, looking at up to 8192 names (every homonym of a common name in a
 * national index). Either way, candidates of equal score with no commune
 * named rank by their commune's importance. */

/* The bias (has_bias) works like addok's proximity, on the ranking only:
 * candidate streets are ordered by text score x (0.9 + 0.1 x proximity),
 * proximity = 5 km / (5 km + distance to the street), 1 on the point, 0.5 at
 * 5 km. So among names that the text finds equally good (the same street in
 * two communes of one postcode, homonym communes) the nearest wins, while a
 * name more than about 10 % better in the text still wins from far away.
 * result_score stays the text's score (comparable with and without a
 * position; the confidence threshold keeps its meaning), so score_next may
 * exceed score when a nearer, slightly worse name was preferred. When the
 * query names no commune at all (no citycode, postcode or city, in the text
 * or the filters), the communes within 10 km of the point are the
 * candidates, each with commune confidence 0.9. */

#define GF_GC_MAX_RESULTS 20 /* most results gf_gc_search() returns */

/* One result. Strings point into the index (valid while it lives).
 *
 * The score is a product, so that a result is only confident when every
 * stage was: street similarity (1 for the same normalised name, else
 * 1 - 1.5 * edits / length, times 0.85 when the street type had to be left
 * out; times 0.9 when a runner-up street is as close) x commune confidence
 * (1 for an INSEE code, a postcode with one commune, or a matching name;
 * 0.98 for a former commune or hamlet name; 0.95 for a postcode of several
 * communes; 0.85-0.9 for a fuzzy or homonym name) x the number stage (1 for
 * the number and suffix asked for, 0.95 for "b" read as "bis", 0.8 for
 * another suffix of that number, 0.75 interpolated, 0.6 nearest number;
 * street or place results 1 without a number, 0.8-0.9 with one). A commune
 * result scores 0.9 x confidence when only a commune was asked for, 0.3 x
 * confidence when the street was not found. Two answers of one commune
 * that the text cannot tell apart (homonym streets of two communes
 * déléguées, neither named; a street and a lieu-dit named alike that both
 * have the number) give the first times 0.75, and score_next equal to
 * score. A lieu-dit's or former commune's name read as the commune's is
 * 0.98 (0.95 as the city, 0.9 when several communes have it; 0.85 behind a
 * commune of that name); a street of another former commune than the one
 * named ranks at 0.8 x its confidence. */
typedef struct gf_gc_result {
    gf_gc_type type;
    double score, score_next; /* [0,1]; score_next: the best other candidate, 0 if none */
    double lon, lat;          /* WGS84 */
    double distance;          /* reverse: metres to the query point */
    int64_t housenumber;      /* -1 when none */
    char suffix[16];          /* "bis", "a", ... or "" */
    const char *id;           /* cle_interop of the address; a street's or place's up to the number
                                 ("35047_0380"); "" when none */
    const char *name;         /* "12 bis Rue de la Paix", or the street / place / commune name */
    const char *street;       /* street or place name ("" for municipality) */
    const char *postcode;     /* "" when unknown */
    const char *city;         /* commune name ("Paris" for an arrondissement of Paris, Lyon, Marseille) */
    const char *citycode;     /* INSEE (of the arrondissement there) */
    const char *context;      /* "35, Ille-et-Vilaine, Bretagne": department number, name, region ("" unknown) */
    const char *district;     /* "Paris 15e Arrondissement" in Paris, Lyon, Marseille; "" elsewhere (and for
                                 the whole city: "Paris", "75056", when the query names only the city) */
    const char *oldcity;      /* commune déléguée of the street (address files' commune_deleguee_nom), "" none */
    const char *oldcitycode;  /* its INSEE code, "" none */
    double importance;        /* [0,1], the commune's weight: log10(1 + its addresses) / 5.2, capped at 1
                                 (about 160,000 addresses). The national service derives it from the
                                 commune's population; no population table is among geoflux's inputs,
                                 so the address count stands in for it. Not part of score;
                                 orders homonyms when no commune is named. */
} gf_gc_result;

/* Per-worker buffers. Caller frees with gf_gc_scratch_destroy(). */
gf_status gf_gc_scratch_create(const gf_gc_index *ix, gf_gc_scratch **out);
void gf_gc_scratch_destroy(gf_gc_scratch *s);

/* The one matching entry point (the CSV stage and `geoflux serve`'s
 * /search call it): ranks up to max (<= GF_GC_MAX_RESULTS) results for q
 * into res[0..*n), best first; res[0].score_next is the best other
 * candidate's score, so a row can be flagged as ambiguous. *n == 0 when
 * nothing is found. GF_OK, or GF_ERR_ARG for NULL arguments or max < 1;
 * allocates nothing. Names are built in the scratch: valid until the next
 * call with the same scratch. */
gf_status gf_gc_search(const gf_gc_index *ix, gf_gc_scratch *s, const gf_gc_query *q, gf_gc_result *res, int max,
                       int *n);

/* gf_gc_search() with max 1: res->type == GF_GC_NONE when nothing was found. */
gf_status gf_gc_geocode(const gf_gc_index *ix, gf_gc_scratch *s, const gf_gc_query *q, gf_gc_result *res);

/* An empty result (type GF_GC_NONE, strings "", positions NaN). */
void gf_gc_result_clear(gf_gc_result *r);

/* How a result reads, the same in the CSV columns and in `geoflux serve`'s
 * JSON: the label ("12 bis Rue de la Paix 31000 Toulouse", "31000 Toulouse"
 * for a commune) and the house number with its suffix ("12bis"; "" when
 * none). Each writes a NUL-terminated string of at most outsz-1 bytes
 * (truncated when longer) and returns its length; "" for a GF_GC_NONE
 * result. */
size_t gf_gc_result_label(const gf_gc_result *r, char *out, size_t outsz);
size_t gf_gc_result_housenumber(const gf_gc_result *r, char *out, size_t outsz);

/* result_x / result_y: positions in the legal projected CRS of their
 * territory (Lambert-93 in metropolitan France, the UTM zone overseas).
 * gf_gc_legal_epsg() gives the EPSG code for an INSEE code (0 where there is
 * none known: the Pacific, an empty code). A gf_gc_legal caches the PROJ
 * transformations: one per thread (its PROJ objects follow the gf_ctx passed
 * to gf_gc_legal_trans()); caller frees with gf_gc_legal_destroy() (NULL is
 * a no-op). gf_gc_legal_trans() transforms n WGS84 points (x = lon, y = lat)
 * in place to EPSG:epsg; a point PROJ cannot transform becomes HUGE_VAL.
 * GF_ERR_ARG for an epsg that gf_gc_legal_epsg() never returns, GF_ERR_PROJ
 * when PROJ cannot build the transformation (message in ctx). */
typedef struct gf_gc_legal gf_gc_legal;
int gf_gc_legal_epsg(const char *citycode);
gf_status gf_gc_legal_create(gf_gc_legal **out);
void gf_gc_legal_destroy(gf_gc_legal *l);
gf_status gf_gc_legal_trans(gf_gc_legal *l, gf_ctx *ctx, int epsg, double *x, double *y, size_t n);

/* Nearest address (numbered address, or a street/place without numbers)
 * to lon/lat within max_m metres (<= 0: no limit). res->type == GF_GC_NONE
 * when there is none. */
gf_status gf_gc_reverse(const gf_gc_index *ix, gf_gc_scratch *s, double lon, double lat, double max_m,
                        gf_gc_result *res);

/* The max (<= GF_GC_MAX_RESULTS) nearest results to lon/lat within max_m
 * metres (<= 0: no limit) into res[0..*n), nearest first, ties in index
 * order (the same on every run), each with its distance. type chooses what
 * a result is: GF_GC_NONE, the addresses and numberless streets/places
 * themselves (gf_gc_reverse() is this with max 1); GF_GC_HOUSENUMBER, the
 * numbered addresses only; GF_GC_STREET / GF_GC_LOCALITY, the streets /
 * places (lieux-dits) to which the nearest addresses belong, each once, at
 * its own position; GF_GC_MUNICIPALITY, their communes, each once, at the
 * commune's position. A street's, place's or commune's distance is that of
 * its nearest address (or numberless position) to the point: the one the
 * search ranks by, and what tells how far the point is from it. GF_OK, or
 * GF_ERR_ARG for NULL arguments or max < 1; allocates nothing. Names are
 * built in the scratch: valid until the next call with the same scratch. */
gf_status gf_gc_reverse_n(const gf_gc_index *ix, gf_gc_scratch *s, double lon, double lat, double max_m,
                          gf_gc_type type, gf_gc_result *res, int max, int *n);

/* Great-circle distance in metres. */
double gf_gc_distance(double lon1, double lat1, double lon2, double lat2);

/* Text normalisation used on both sides (exposed for tests): lower case,
 * accents folded, punctuation to blanks, abbreviations expanded (R, Av, Bd,
 * Ch, Imp, Pl, Rte, St, Ste, Lot, Res, ...), articles dropped. Writes a
 * NUL-terminated string of at most outsz-1 bytes; returns its length. */
size_t gf_gc_normalize(const char *p, size_t n, char *out, size_t outsz);

/* ---- pipeline stages ------------------------------------------------------- */

typedef struct gf_geocode_opts {
    const gf_gc_index *index;   /* borrowed: must outlive the pipeline */
    const char *columns;        /* comma-separated input columns joined into the query;
                                   NULL: from the schema (SCDL ADR_NUMERO,ADR_NOMVOIE; else adresse/address/q) */
    const char *postcode;       /* column name of the postcode filter; NULL: ADR_CODEPOSTAL/postcode/code_postal if present */
    const char *citycode;       /* column name of the INSEE filter; NULL: citycode/code_insee if present */
    const char *city;           /* column name of the commune name; NULL: ADR_COMMUNE/ADR_VILLE/city/commune if present */
    const char *lat_col, *lon_col; /* columns with the input's own coordinates (WGS84), checked against
                                      the result; NULL: EQUIP_LAT/EQUIP_LONG, lat/lon, ... if present
                                      (a column named here must exist: GF_ERR_SCHEMA) */
    int bias;                   /* 1: a row's own position (lat_col/lon_col) is also the query's bias
                                   (gf_gc_query.has_bias), as the service's lat/lon columns; the CLI
                                   sets it when --lat and --lon are given */
    double far_m;               /* distance beyond which result_far is set; 0: 100 m */
    const char *result_columns; /* comma-separated result columns to write, in that order; NULL: the style's */
    int columns_style;          /* GF_GC_STYLE_GEOPLATEFORME (default) or GF_GC_STYLE_API_ADRESSE */
} gf_geocode_opts;

/* Result column orders. The Géoplateforme's (/geocodage, its public
 * gpf-geocodeur sources): result_index, latitude, longitude, result_label,
 * result_score, result_score_next, result_type, result_id,
 * result_housenumber, result_name, result_street, result_postcode,
 * result_city, result_context, result_citycode, result_oldcitycode,
 * result_oldcity, result_district, result_importance, result_x, result_y,
 * result_status (reverse: result_latitude, result_longitude and
 * result_distance in place of latitude ... result_score_next). The older
 * api-adresse's: the same without result_index, result_importance,
 * result_x, result_y. result_x/result_y are in the legal CRS of the
 * territory (Lambert-93 in metropolitan France, the UTM zone overseas);
 * result_index is "address". */
enum { GF_GC_STYLE_GEOPLATEFORME = 0, GF_GC_STYLE_API_ADRESSE = 1 };

/* How many rows a geocode or reverse stage gave each result_status, and
 * each result type among the ok ones (indexed by gf_gc_type). */
typedef struct gf_gc_counts {
    uint64_t ok, not_found, skipped, error, types[5];
} gf_gc_counts;
/* Sums over the workers; valid after the run, until the stage is destroyed. */
void gf_geocode_stage_counts(const void *st, gf_gc_counts *out);

/* Geocoding stage. start() appends the result columns (the style's order,
 * or opts->result_columns), and, when the input has coordinates and no list
 * is given, result_distance (metres from them to the result) and
 * result_far (input columns already called like a result column are
 * renamed NAME_input). result_status: ok, not-found, skipped (nothing to
 * look for), error (a query too long to read). run() sets b->lon/b->lat and
 * GF_ROW_HAS_POS for found rows: put gf_reproject_stage_vt after it to get
 * b->gx/gy in the output CRS. Caller frees with gf_geocode_stage_vt.destroy
 * (the pipeline does it once added). */
gf_status gf_geocode_stage_create(gf_ctx *ctx, const gf_geocode_opts *opts, void **st);
extern const gf_stage_vt gf_geocode_stage_vt;

/* Default distance limit of reverse geocoding (`geoflux reverse`, /reverse,
 * /reverse/csv): beyond it, not-found. The national service's is of this
 * order. */
#define GF_GC_REVERSE_MAX_M 500.0

typedef struct gf_reverse_opts {
    const gf_gc_index *index;      /* borrowed */
    const char *lat_col, *lon_col; /* NULL: lat/latitude/y..., lon/lng/long/longitude/x... */
    double max_m;                  /* beyond it: not-found; <= 0: no limit */
    const char *result_columns;    /* as for gf_geocode_opts */
    int columns_style;
} gf_reverse_opts;

/* Reverse stage: for each row with a point (WGS84 columns), the nearest
 * address within max_m: adds the style's reverse columns (result_distance
 * in metres); result_status not-found beyond max_m, skipped without a
 * point. The row's own position is the input point. */
gf_status gf_reverse_stage_create(gf_ctx *ctx, const gf_reverse_opts *opts, void **st);
extern const gf_stage_vt gf_reverse_stage_vt;

/* The stages `geoflux geocode` / `reverse` put after a table source
 * (include/geoflux/equipment.h's gf_table_reader, borrowed: it must outlive
 * the pipeline), and `geoflux serve`'s /search/csv and /reverse/csv too:
 * with go, SCDL checks (reported, never withholding a row), typing, the
 * geocode stage; with ro (go NULL), typing, the reverse stage; then
 * reprojection to t_srs (NULL: WGS84) of the found positions. *gstage (may
 * be NULL) is the geocode or reverse stage, borrowed from the pipeline, for
 * gf_geocode_stage_counts(). Stages added before a failure stay with the
 * pipeline. */
struct gf_table_reader;
gf_status gf_geocode_table_stages(gf_ctx *ctx, gf_pipeline *p, const struct gf_table_reader *reader,
                                  const gf_geocode_opts *go, const gf_reverse_opts *ro, const char *t_srs,
                                  void **gstage);

#ifdef __cplusplus
}
#endif
#endif
