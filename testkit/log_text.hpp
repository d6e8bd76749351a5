#pragma once
// Reading what keyreq serve writes: Prometheus metrics and key=value log lines.
#include <string>

namespace keyreq::testkit {

// The value of one sample ("name" or "name{labels}") in Prometheus text; -1 when absent.
long long metric(const std::string& text, const std::string& sample);

// The first number after `key=` in the last line holding `event=EVENT `; 0 when none.
long long last_field(const std::string& log, const std::string& event, const std::string& key);

}  // namespace keyreq::testkit
