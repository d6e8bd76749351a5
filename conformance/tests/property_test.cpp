// RapidCheck properties, a bounded number of cases each (a fixed seed and
// count unless RC_PARAMS is set): the resolver agrees with
// the oracle on every generated case, and every generator gets the verdict it
// aims at.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <stdlib.h>

#include "conformance/compare.hpp"
#include "conformance/generators.hpp"
#include "conformance/tests/known_resolver_bugs.hpp"

namespace keyreq::conformance {

void showValue(const Case& c, std::ostream& os) {
  os << c.family << " (intent " << (c.intent.empty() ? "?" : c.intent) << ") " << escape_for_display(c.request.wire())
     << " " << escape_for_display(c.output);
}

namespace {

// RapidCheck reads RC_PARAMS on first use, after static initialisation.
const bool kFixedParams = ::setenv("RC_PARAMS", "seed=20240607 max_success=1000 max_discard_ratio=50", 0) == 0;

void check_case(const Case& c) {
  InProcessResolver resolver;
  const Comparison cmp = compare(resolver, c.request, c.output);
  if (!c.intent.empty()) RC_ASSERT(cmp.oracle.label == c.intent);
  if (!testing::known_resolver_bug(c.output, cmp).empty()) RC_DISCARD("known resolver bug");
  RC_ASSERT(cmp.agree());
}

RC_GTEST_PROP(Conformance, ResolverAgreesWithOracle, ()) { check_case(*gen_case()); }

RC_GTEST_PROP(Conformance, ValidAnswersAreAccepted, ()) {
  const Case c = *gen_valid_case();
  RC_ASSERT(c.intent == "accept");
  check_case(c);
}

RC_GTEST_PROP(Conformance, DeclinesAreDeclines, ()) { check_case(*gen_decline_case()); }

RC_GTEST_PROP(Conformance, EveryRuleViolatedJustPastItsBoundary, ()) {
  const std::string rule = *rc::gen::elementOf(violation_rules());
  const Case c = *gen_violation_case(rule);
  RC_ASSERT(c.intent == rule);
  RC_TAG(rule);
  check_case(c);
}

RC_GTEST_PROP(Conformance, SeveralViolationsGiveTheFirstInRuleOrder, ()) { check_case(*gen_multi_violation_case()); }

RC_GTEST_PROP(Conformance, StructuralMutations, ()) { check_case(*gen_mutation_case()); }

RC_GTEST_PROP(Conformance, GeneratedFieldsFollowTheirRules, ()) {
  RC_ASSERT(is_id(*gen_agent_id()));
  RC_ASSERT(is_name(*gen_agent_name()));
  RC_ASSERT(is_key(*gen_agent_key()));
  RC_ASSERT(parse_network(*gen_agent_ip()).has_value());
  const OracleRequest r = *gen_request();
  if (r.kind == "ip") {
    const auto network = parse_network(*gen_network_covering(r));
    RC_ASSERT(network.has_value());
    RC_ASSERT(network_covers(*network, *parse_address(r.value)));
  } else {
    RC_ASSERT(is_id(r.value));
  }
}

}  // namespace
}  // namespace keyreq::conformance
