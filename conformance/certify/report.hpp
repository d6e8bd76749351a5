#pragma once
// Writers over the certificate: console summary, certificate.json,
// certificate.md and JUnit XML (one testcase per probe). Each failure shows
// what was sent, what came back (escaped, truncated), the rule it breaks and
// a one-line command that reproduces it.
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "conformance/certify/certificate.hpp"

namespace keyreq::certify {

// Failures and warnings with their evidence, then the totals and the verdict.
// verbose: every probe, passing ones too.
void write_console(const Certificate& cert, std::ostream& out, bool verbose = false);

nlohmann::json certificate_json(const Certificate& cert);
std::string certificate_markdown(const Certificate& cert);
// warnings_as_failures: a probe with only SHOULD findings is a <failure>
// (type "SHOULD <rules>") instead of a passing testcase with <system-out>.
std::string junit_xml(const Certificate& cert, bool warnings_as_failures = false);

// "CERTIFIED" or "NOT CERTIFIED".
std::string_view verdict(const Certificate& cert);

// Writes certificate.json and certificate.md into dir (created if needed).
// Returns "" or what went wrong.
std::string write_certificate_files(const Certificate& cert, const std::string& dir);
// Returns "" or what went wrong.
// Atomically (the platform kit's write_file_atomically).
std::string write_text_file(const std::string& path, const std::string& text);

}  // namespace keyreq::certify
