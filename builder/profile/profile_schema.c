/* profile_schema: the key tables as a JSON Schema (draft-07, which
 * yaml-language-server and python3-jsonschema both read). Every mapping is
 * a definition with additionalProperties false; scalars are typed as a
 * YAML loader hands them over (version: 1 is a number, a MAC a string). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/profile/schema.h"
#include "profile_parser.h"

#define SCHEMA_DRAFT "http://json-schema.org/draft-07/schema#"

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A scalar as YAML reads it: 3 a number, true a boolean, else a string. */
static json_t *scalar_value(const char *s)
{
	if (all_digits(s))
		return json_integer(strtoll(s, NULL, 10));
	if (!strcmp(s, "true") || !strcmp(s, "false"))
		return json_boolean(!strcmp(s, "true"));
	return json_string(s);
}

/* A default as written in a profile: a scalar, or "[a, b]". */
static json_t *default_value(const char *s)
{
	json_t *list;
	size_t len = strlen(s);

	if (s[0] != '[' || s[len - 1] != ']')
		return scalar_value(s);
	list = json_array();
	for (const char *p = s + 1; list && p < s + len - 1;) {
		size_t n = strcspn(p, ",]");

		while (n && p[n - 1] == ' ')
			n--;
		if (n && json_array_append_new(list, json_stringn(p, n))) {
			json_decref(list);
			return NULL;
		}
		p += strcspn(p, ",]") + 1;
		p += strspn(p, " ");
	}
	return list;
}

static json_t *ref(const struct pf_keymap *km)
{
	char path[128];

	snprintf(path, sizeof(path), "#/definitions/%s", km->name);
	return json_pack("{s:s}", "$ref", path);
}

static json_t *choice_schema(const struct pf_choice *c)
{
	json_t *e = json_array();

	for (size_t i = 0; e && i < c->n; i++) {
		/* "3" may be written 3 or "3" */
		if (all_digits(c->names[i]) &&
		    json_array_append_new(e, scalar_value(c->names[i])))
			goto fail;
		if (json_array_append_new(e, json_string(c->names[i])))
			goto fail;
	}
	return json_pack("{s:o}", "enum", e);
fail:
	json_decref(e);
	return NULL;
}

static json_t *scalar_schema(enum pk_type t)
{
	switch (t) {
	case PT_INT:
		return json_pack("{s:[ss],s:i,s:s}", "type", "integer", "string",
				 "minimum", 0, "pattern", "^[0-9]+$");
	case PT_BOOL:
		return json_pack("{s:[bbss]}", "enum", 1, 0, "true", "false");
	case PT_CPUSET:
		return json_pack("{s:[ss],s:i,s:s}", "type", "string", "integer",
				 "minimum", 0, "pattern",
				 "^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$");
	case PT_QUANTITY:
		return json_pack("{s:s,s:s}", "type", "string", "pattern",
				 "^[0-9]+[KMGT]i$");
	case PT_VERSION:
		return json_pack("{s:[is]}", "enum", 1, "1");
	default:
		return json_pack("{s:s}", "type", "string");
	}
}

static json_t *strings(void)
{
	return json_pack("{s:[ss],s:{s:s}}", "type", "array", "null", "items",
			 "type", "string");
}

static json_t *bootfile(const struct pf_key *k)
{
	return json_pack("{s:[{s:s}o]}", "anyOf", "type", "string",
			 ref(k->map));
}

static json_t *value_schema(const struct pf_key *k)
{
	switch (k->type) {
	case PT_BOOTFILE:
		return bootfile(k);
	case PT_BOOTFILES:
		return json_pack("{s:[ss],s:o}", "type", "array", "null",
				 "items", bootfile(k));
	case PT_ALL_OR_LIST:
		return json_pack("{s:[{s:[s]}o]}", "anyOf", "enum", "all",
				 strings());
	case PT_STRINGS:
		return strings();
	case PT_GROUPS:
		return json_pack("{s:[ss],s:{s:s}}", "type", "object", "null",
				 "additionalProperties", "$ref",
				 "#/definitions/group");
	default:
		break;
	}
	switch (k->kind) {
	case PK_STRV:
		return strings();
	case PK_MAP:
		return json_pack("{s:[o{s:s}]}", "anyOf", ref(k->map), "type",
				 "null");
	case PK_LIST:
		if (k->flags & PKF_REQUIRED)
			return json_pack("{s:s,s:i,s:o}", "type", "array",
					 "minItems", 1, "items",
					 ref(k->list->item));
		return json_pack("{s:[ss],s:o}", "type", "array", "null",
				 "items", ref(k->list->item));
	default:
		return k->choice ? choice_schema(k->choice) :
				   scalar_schema(k->type);
	}
}

static json_t *key_schema(const struct pf_key *k)
{
	json_t *s = value_schema(k);

	if (!s || json_object_set_new(s, "description", json_string(k->doc)) ||
	    (k->dflt && json_object_set_new(s, "default",
					    default_value(k->dflt)))) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* One mapping: its keys (a VM's without those it rejects), the required
 * ones, no others. Fills m, which may already hold other members. */
static int map_schema_into(json_t *m, const struct pf_keymap *km)
{
	json_t *props = json_object(), *req = json_array();
	int rc = props && req ? 0 : -1;

	for (size_t i = 0; !rc && i < km->n; i++) {
		const struct pf_key *k = &km->keys[i];

		if (km->in_vm && k->vm_reject)
			continue;
		rc = json_object_set_new(props, k->name, key_schema(k));
		if (!rc && (k->flags & PKF_REQUIRED))
			rc = json_array_append_new(req, json_string(k->name));
	}
	if (!rc)
		rc = json_object_set_new(m, "title", json_string(km->name)) ||
		     json_object_set_new(m, "description", json_string(km->doc)) ||
		     json_object_set_new(m, "type", json_string("object")) ||
		     json_object_set(m, "properties", props) ||
		     json_object_set_new(m, "additionalProperties", json_false());
	if (!rc && json_array_size(req))
		rc = json_object_set(m, "required", req);
	if (!rc && km->exclusive[0])
		rc = json_object_set_new(m, "not",
					 json_pack("{s:[ss]}", "required",
						   km->exclusive[0],
						   km->exclusive[1]));
	json_decref(props);
	json_decref(req);
	return rc ? -ENOMEM : 0;
}

/* A group: a host's keys but name and macs, none required. */
static int group_schema(json_t *defs)
{
	json_t *host = json_object_get(defs, pk_host.name), *g;
	json_t *props;

	g = host ? json_deep_copy(host) : NULL;
	props = g ? json_object_get(g, "properties") : NULL;
	if (!props || json_object_del(props, "name") ||
	    json_object_del(props, "macs") ||
	    json_object_set_new(g, "title", json_string("group")) ||
	    json_object_set_new(g, "description",
				json_string("a named set of host settings")) ||
	    json_object_set_new(defs, "group", g)) {
		json_decref(g);
		return -ENOMEM;
	}
	json_object_del(g, "required");
	return 0;
}

int profile_schema(json_t **out)
{
	json_t *root = json_object(), *defs = json_object();
	int rc = -ENOMEM;

	*out = NULL;
	if (!root || !defs ||
	    json_object_set_new(root, "$schema", json_string(SCHEMA_DRAFT)))
		goto clean;
	for (size_t i = 1; i < pk_nall; i++) {
		json_t *m = json_object();

		if (!m || json_object_set_new(defs, pk_all[i]->name, m) ||
		    map_schema_into(m, pk_all[i]))
			goto clean;
	}
	if (group_schema(defs) || map_schema_into(root, &pk_profile) ||
	    json_object_set(root, "definitions", defs))
		goto clean;
	*out = root;
	root = NULL;
	rc = 0;
clean:
	json_decref(root);
	json_decref(defs);
	return rc;
}
