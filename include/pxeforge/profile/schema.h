/* The profile's JSON Schema (draft-07), built from the key tables that
 * drive the parser: what `pxeforge schema` prints. */
#ifndef PXEFORGE_PROFILE_SCHEMA_H
#define PXEFORGE_PROFILE_SCHEMA_H

#include <jansson.h>

/* The schema as a new jansson object in *out; 0 or -ENOMEM. */
int profile_schema(json_t **out);

#endif
