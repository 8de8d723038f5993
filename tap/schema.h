/*
 * The schema of the `decisions` stream and the catalog built around it.
 */
#ifndef TAP_SCHEMA_H
#define TAP_SCHEMA_H

#include <stdio.h>

/* The stream's JSON Schema as compact JSON text. */
extern const char tap_schema[];

/* Print the catalog (one line) for --discover; 0, or -1 if stdout fails. */
int tap_write_catalog(FILE *out);

#endif
