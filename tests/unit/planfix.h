/* The plan tests' fixture: profile text written to p.yaml in a fresh
 * directory, then parse -> read inputs -> validate -> plan as the CLI
 * does. */
#ifndef PXEFORGE_TEST_PLANFIX_H
#define PXEFORGE_TEST_PLANFIX_H

#include "pxeforge/lib/diag.h"
#include "pxeforge/plan/plan.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/profile/profile.h"
#include "pxeforge/validate/validate.h"

#include "fixture.h"

struct ctx {
	struct fixture fx;
	struct pf_diag *d;
	struct pf_profile *p;
	struct pf_profile_inputs *in;
	struct pf_plan *plan;
	char *out;	/* diag_print output */
	int rc;		/* -EINVAL: validation errors, else plan_build's */
};

/* A ctx in a fresh directory named after name, with pci_ids as pci.ids. */
static inline struct ctx *planfix_enter(const char *name, const char *pci_ids)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || fixture_enter(&c->fx, name, pci_ids) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void reset(struct ctx *c)
{
	plan_free(c->plan);
	c->plan = NULL;
	profile_inputs_free(c->in);
	c->in = NULL;
	profile_free(c->p);
	c->p = NULL;
	diag_free(c->d);
	c->d = NULL;
	free(c->out);
	c->out = NULL;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	reset(c);
	rc = fixture_leave(&c->fx);
	free(c);
	return rc;
}

/* Writes text to p.yaml, parses (must succeed), reads its inputs,
 * validates and, without errors, plans; returns all printed diagnostics.
 * c->rc is -EINVAL after validation errors, else plan_build's. */
static const char *build(struct ctx *c, const char *text)
{
	reset(c);
	fixture_write_file("p.yaml", text);
	c->d = diag_new();
	assert_non_null(c->d);
	assert_int_equal(profile_parse("p.yaml", c->d, &c->p), 0);
	assert_int_equal(profile_inputs_read(c->p, &c->in), 0);
	profile_validate(c->p, c->in, c->d);
	c->rc = diag_errors(c->d) ? -EINVAL : plan_build(c->p, c->in, &c->plan);
	if (c->rc == 0)
		assert_non_null(c->plan);
	else
		assert_null(c->plan);
	c->out = fixture_diag_text(c->d);
	return c->out;
}

#endif
