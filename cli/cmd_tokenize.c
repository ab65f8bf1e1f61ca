/*
 * cmd_tokenize.c - `memwall tokenize MODEL TEXT`: the token ids of a text
 * by the model's own vocabulary (GGUF: SentencePiece-style or byte-level
 * BPE), and
 * `--decode IDS`: the text of ids. Options are documented in
 * cli/doc/tokenize.txt.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* the most ids --decode takes */
#define DECODE_MAX 65536u

const struct option mw_cmd_tokenize_options[] = {
    {"json", no_argument, NULL, 'j'},
    {"decode", required_argument, NULL, 'd'},
    {"no-bos", no_argument, NULL, 'B'},
    {"special", no_argument, NULL, 'S'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int mw_cmd_tokenize(int argc, char **argv)
{
    int json = 0, bos = 1, special = 0, c;
    const char *decode = NULL;
    mw_cli_operands ops = {.max = 2};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:jd:h", mw_cmd_tokenize_options, &ops)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'd': decode = optarg; break;
        case 'B': bos = 0; break;
        case 'S': special = 1; break;
        case 'h': fputs(mw_cli_doc_find("tokenize")->help, stdout); return MW_EXIT_OK;
        case ':':
            mw_cli_error("tokenize", "option '%s' needs a value", argv[optind - 1]);
            return MW_EXIT_USAGE;
        default:
            mw_cli_error("tokenize", "unknown option '%s'", argv[optind - 1]);
            return MW_EXIT_USAGE;
        }
    }
    int want = decode ? 1 : 2;
    if (ops.n > want) {
        mw_cli_error("tokenize", decode ? "--decode takes no TEXT (unexpected '%s')" : "unexpected operand '%s'",
                     ops.v[want]);
        return MW_EXIT_USAGE;
    }
    if (ops.n < want) {
        mw_cli_error("tokenize", ops.n == 0 ? "no MODEL given" : "no TEXT given (or --decode IDS)");
        return MW_EXIT_USAGE;
    }
    if (decode && (json || !bos || special)) {
        mw_cli_error("tokenize", "--decode prints text: %s does not apply",
                     json ? "--json" : !bos ? "--no-bos" : "--special");
        return MW_EXIT_USAGE;
    }
    uint32_t *ids = NULL;
    size_t n = 0;
    if (decode) {
        ids = mw_malloc(DECODE_MAX * sizeof *ids, MW_MEM_OTHER);
        if (!ids) {
            mw_cli_error(NULL, "out of memory");
            return MW_EXIT_FAILURE;
        }
        if (!mw_cli_parse_u32_list("tokenize", "--decode", decode, 0, UINT32_MAX - 1, ids, DECODE_MAX, &n)) {
            mw_free(ids);
            return MW_EXIT_USAGE;
        }
    }
    mw_tokenizer *t = NULL;
    mw_err err;
    if (mw_tokenizer_open(ops.v[0], &t, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        mw_free(ids);
        return MW_EXIT_FAILURE;
    }
    int code = MW_EXIT_OK;
    if (decode) {
        char *text = NULL;
        size_t len = 0;
        if (mw_tokenizer_decode(t, ids, n, &text, &len, &err) != MW_OK) {
            mw_cli_error(NULL, "%s: %s", ops.v[0], err.msg);
            code = MW_EXIT_FAILURE;
        } else if (!mw_cli_write_model_text(stdout, text, len) || fputc('\n', stdout) == EOF ||
                   fflush(stdout) != 0) {
            mw_cli_error(NULL, "cannot write the text: %s", strerror(errno));
            code = MW_EXIT_FAILURE;
        }
        mw_free(text);
    } else {
        const char *text = ops.v[1];
        unsigned flags = (bos && mw_tokenizer_adds_bos(t) ? MW_TOK_ADD_BOS : 0u) |
                         (bos && mw_tokenizer_adds_eos(t) ? MW_TOK_ADD_EOS : 0u) | (special ? MW_TOK_SPECIAL : 0u);
        if (mw_tokenizer_encode(t, text, strlen(text), flags, &ids, &n, &err) != MW_OK) {
            mw_cli_error(NULL, "%s", err.msg);
            code = MW_EXIT_FAILURE;
        } else {
            fputs(json ? "[" : "", stdout);
            for (size_t i = 0; i < n; i++) printf("%s%u", i ? (json ? ", " : " ") : "", ids[i]);
            fputs(json ? "]\n" : "\n", stdout);
            if (fflush(stdout) != 0 || ferror(stdout)) {
                mw_cli_error(NULL, "cannot write the ids: %s", strerror(errno));
                code = MW_EXIT_FAILURE;
            }
        }
    }
    mw_free(ids);
    mw_tokenizer_free(t);
    return code;
}
