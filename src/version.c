/*
 * version.c -- what the linked library is, so callers can detect a header mismatch.
 */
#include <utf8proc.h>

#include "bp_internal.h"

const char *bp_version_string(void) { return BP_VERSION_STRING; }

unsigned bp_version_number(void) { return BP_VERSION_NUMBER; }

const char *bp_unicode_version(void) { return utf8proc_unicode_version(); }
