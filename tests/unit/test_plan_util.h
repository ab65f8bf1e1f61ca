/*
 * test_plan_util.h - what the planner's unit tests share: a preset opened
 * (by name, through mw_model_open) and a plan computed, either failing the
 * test with memwall's own message.
 * Include after cmocka.h and memwall.h.
 */
#ifndef MW_TEST_PLAN_UTIL_H
#define MW_TEST_PLAN_UTIL_H

static inline mw_model *open_preset(const char *name)
{
    mw_model *m = NULL;
    mw_err err = {0};
    if (mw_model_open(name, &m, &err) != MW_OK) fail_msg("preset %s: %s", name, err.msg);
    assert_non_null(m);
    return m;
}

static inline mw_plan plan_of(const mw_model *m, const mw_plan_opts *o)
{
    mw_plan p;
    mw_err err = {0};
    mw_status st = mw_plan_compute(m, o, &p, &err);
    if (st != MW_OK) fail_msg("%s", err.msg);
    return p;
}

#endif /* MW_TEST_PLAN_UTIL_H */
