/*
 * bp.c -- the bp command-line tool of libbytepiece.
 *
 *   bp encode -m MODEL [OPTION]... [FILE]...   text -> token ids (bp_encode.c)
 *   bp decode -m MODEL [FILE]...               token ids -> text (bp_decode.c)
 *   bp train, convert, info, vocab, export, import, add-tokens (bp_train.c, bp_convert.c,
 *                                               bp_info.c, bp_interop.c, bp_add_tokens.c)
 *
 * The tool is thin on purpose: it parses flags, streams its inputs, calls the public API
 * (bytepiece.h, nothing else of the library) and formats the output. Every algorithm lives
 * in the library.
 *
 * Memory: in line mode (encode's default, and decode) one line is held at a time, whatever
 * its length; encode --whole holds one file, because the file is one text.
 * Output goes through one large buffer written with fwrite, never printf per token.
 * Errors: a write error (full disk) is reported and gives exit status 1; a closed pipe kills
 * the process quietly through the default SIGPIPE action, as it does `cat`.
 * Exit status: 0 success, 1 failure on data or I/O, 2 usage error.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bytepiece.h"
#include "cli.h"
#include "megatron.h"

/*====== Help texts ======*/

static const char main_help[] =
    "Usage: bp COMMAND [OPTION]... [FILE]...\n"
    "Tokenize text with a BytePiece model (byte-level Unigram).\n"
    "\n"
    "Commands:\n"
    "  encode          text to token ids (or pieces), one output line per input line\n"
    "  decode          token ids back to text\n"
    "  train           train a model on text files (the reference BytePiece trainer)\n"
    "  count           pass 1 of a training split into shards: n-gram counts of a shard\n"
    "  segment         pass 2 of a sharded training: piece counts of a shard\n"
    "  merge           sum the count files of the shards (exact, in any order)\n"
    "  convert         convert a model between reference JSON and the fast native format\n"
    "  info            describe a model: format, sizes, piece lengths, total count\n"
    "  vocab           list a model's ids, pieces, counts and scores (TSV)\n"
    "  export          write a model for SentencePiece or Hugging Face tokenizers\n"
    "  import          make a model from a table of pieces and counts\n"
    "  add-tokens      add special tokens (<|endoftext|>, ...) to a model\n"
    "  merge-megatron  join Megatron-LM datasets written by encode into one\n"
    "  report          compare models on held-out texts: an HTML page (or JSON)\n"
    "\n"
    "Run 'bp COMMAND --help' for the options of a command.\n"
    "\n"
    "  -h, --help     show this help and exit\n"
    "      --version  show the version and the Unicode version of the NFC tables\n"
    "\n"
    "Exit status: 0 success, 1 failure on data or I/O, 2 usage error.\n";

/*====== Entry point ======*/

static int print_version(void)
{
    char text[256];
    snprintf(text, sizeof text, "bp %s (Unicode %s via utf8proc)\n", bp_version_string(),
             bp_unicode_version());
    return print_text(text);
}

int main(int argc, char **argv)
{
    /* A closed pipe ends the run silently, as for cat, even if our parent ignored SIGPIPE. */
    signal(SIGPIPE, SIG_DFL);

    /* Each command parses argv from its own name on, and getopt_long prints its complaints
     * under argv[0]: so that becomes "bp encode" (messages then read "bp encode: ..."). */
    static char encode_name[] = "bp encode", decode_name[] = "bp decode",
                train_name[] = "bp train", convert_name[] = "bp convert",
                count_name[] = "bp count", segment_name[] = "bp segment",
                merge_name[] = "bp merge",
                info_name[] = "bp info", vocab_name[] = "bp vocab",
                export_name[] = "bp export", import_name[] = "bp import",
                add_tokens_name[] = "bp add-tokens", merge_megatron_name[] = "bp merge-megatron",
                report_name[] = "bp report";
    static const struct {
        const char *word;
        char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {{"encode", encode_name, run_encode},
                    {"decode", decode_name, run_decode},
                    {"train", train_name, run_train},
                    {"count", count_name, run_count},
                    {"segment", segment_name, run_segment},
                    {"merge", merge_name, run_merge},
                    {"convert", convert_name, run_convert},
                    {"info", info_name, run_info},
                    {"vocab", vocab_name, run_vocab},
                    {"export", export_name, run_export},
                    {"import", import_name, run_import},
                    {"add-tokens", add_tokens_name, run_add_tokens},
                    {"merge-megatron", merge_megatron_name, run_merge_megatron},
                    {"report", report_name, run_report}};

    if (argc < 2)
        return usage_error("missing command");
    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0)
        return print_text(main_help);
    if (strcmp(word, "--version") == 0)
        return print_version();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(word, commands[i].word) == 0) {
            program_name = commands[i].name;
            argv[1] = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    char what[256];
    snprintf(what, sizeof what, "unknown command '%.200s'", word);
    return usage_error(what);
}
