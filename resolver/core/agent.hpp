#pragma once
#include <string>

namespace keyreq {

// One agent as a provider describes it and client.keys stores it.
struct AgentRecord {
  std::string id;
  std::string name;
  std::string ip;
  std::string key;
  bool operator==(const AgentRecord&) const = default;
};

}  // namespace keyreq
