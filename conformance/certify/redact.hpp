#pragma once
// Agent keys are secrets: everything certify writes (console, certificate.json,
// certificate.md, JUnit) shows them redacted unless --show-keys is given.
// The judging itself always compares whole keys; redaction is applied to the
// finished certificate, just before it is written.
#include <string>
#include <string_view>

#include "conformance/certify/certificate.hpp"

namespace keyreq::certify {

// Runs of this many hex digits or more are taken for keys (S5 keys are 64;
// anything shorter than a 128-bit key is too short to be a secret).
inline constexpr std::size_t kMinKeyHexDigits = 32;

// Every run of >= kMinKeyHexDigits hex digits becomes its first 4 and last 4
// digits and its length: "e220…81ec" -> "e220...81ec(64 hex)".
std::string redact_keys(std::string_view text);

// The certificate with every text field redacted (messages, notes, argv,
// request pieces, outputs, stderr, provider command line, dataset path).
Certificate redacted(Certificate cert);

}  // namespace keyreq::certify
