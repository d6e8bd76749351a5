// keyreq-microbench: Google Benchmark microbenchmarks merged into the
// `keyreq bench` report (bench/micro.cpp runs this with JSON output).
//   parse_validate/{simdjson,nlohmann}  one provider answer, every MUST rule
//   parse_request/{id,ip4,ip6}          one datagram (SPEC §2)
//   keystore_insert/{durable,already_registered}  KeyStore::register_agent
//   dispatcher_round_trip              submit → worker → on_done, in-memory provider, one at a time
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>

#include "bench/nlohmann_validator.hpp"
#include "dataset/dataset.hpp"
#include "resolver/core/request.hpp"
#include "resolver/core/response_parser.hpp"
#include "resolver/daemon/dispatcher.hpp"
#include "resolver/keystore/keystore.hpp"
#include "resolver/platform/temp_dir.hpp"

namespace {

using namespace keyreq;

std::string answer_for(std::size_t index) {
  const auto a = fixtures::dataset_agent(index);
  return "{\"error\":0,\"data\":{\"id\":\"" + a.id + "\",\"name\":\"" + a.name + "\",\"ip\":\"" + a.ip +
         "\",\"key\":\"" + a.key + "\"}}";
}

Request id_request(std::size_t index) { return Request{RequestKind::id, fixtures::dataset_agent(index).id}; }

void parse_validate_simdjson(benchmark::State& state) {
  const std::string answer = answer_for(41);
  const Request request = id_request(41);
  ResponseParser parser;
  if (!std::holds_alternative<AgentRecord>(parser.parse(answer, request))) state.SkipWithError("answer refused");
  for (auto _ : state) {
    auto verdict = parser.parse(answer, request);
    benchmark::DoNotOptimize(verdict);
  }
  state.SetItemsProcessed(state.iterations());
}

void parse_validate_nlohmann(benchmark::State& state) {
  const std::string answer = answer_for(41);
  const Request request = id_request(41);
  if (!std::holds_alternative<AgentRecord>(bench::validate_with_nlohmann(answer, request)))
    state.SkipWithError("answer refused");
  for (auto _ : state) {
    auto verdict = bench::validate_with_nlohmann(answer, request);
    benchmark::DoNotOptimize(verdict);
  }
  state.SetItemsProcessed(state.iterations());
}

void parse_request_bench(benchmark::State& state, std::string datagram) {
  if (!std::holds_alternative<Request>(parse_request(datagram))) state.SkipWithError("request refused");
  for (auto _ : state) {
    auto parsed = parse_request(datagram);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
}

// A private client.keys per benchmark run; removed when the run ends.
struct TempKeys {
  std::optional<TempDir> dir;  // declared first: removed after the store is closed
  std::unique_ptr<KeyStore> store;
  TempKeys() {
    std::string error;
    dir = TempDir::create("keyreq-micro", error);
    if (!dir) return;
    auto opened = KeyStore::open(dir->path() / "client.keys");
    if (auto* s = std::get_if<std::unique_ptr<KeyStore>>(&opened)) store = std::move(*s);
  }
};

void keystore_insert_durable(benchmark::State& state) {
  TempKeys keys;
  if (!keys.store) {
    state.SkipWithError("cannot open a client.keys");
    return;
  }
  std::size_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto a = fixtures::dataset_agent(next++);
    AgentRecord agent{a.id, a.name, a.ip, a.key};
    state.ResumeTiming();
    auto r = keys.store->register_agent(agent);
    if (r.status != RegisterStatus::registered) state.SkipWithError("registration failed");
  }
  state.SetItemsProcessed(state.iterations());
}

void keystore_insert_already_registered(benchmark::State& state) {
  TempKeys keys;
  if (!keys.store) {
    state.SkipWithError("cannot open a client.keys");
    return;
  }
  const auto a = fixtures::dataset_agent(7);
  const AgentRecord agent{a.id, a.name, a.ip, a.key};
  keys.store->register_agent(agent);
  for (auto _ : state) {
    auto r = keys.store->register_agent(agent);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// Answers every request at once from memory: what is left of a round trip
// through the dispatcher is its hand-offs (queue, wake-up, callback).
class MemoryProvider final : public ProviderClient {
 public:
  ProviderResult call(const Request&) override { return ProviderOutput{answer_, {}}; }
  std::string describe() const override { return "memory"; }

 private:
  std::string answer_ = answer_for(1);
};

// One request at a time, the submitter waiting for on_done as the bench's
// dispatcher probe does: the dispatcher's own cost at one request in flight,
// its two hand-offs (issue 13).
void dispatcher_round_trip(benchmark::State& state) {
  MemoryProvider provider;
  Dispatcher dispatcher(provider, nullptr, {.threads = 1, .queue_size = 4});
  const Request request = id_request(1);
  std::atomic<int> done{0};
  for (auto _ : state) {
    done.store(0, std::memory_order_relaxed);
    const auto status = dispatcher.submit(request, [&done](const Finished&) {
      done.store(1, std::memory_order_release);
      done.notify_one();
    });
    if (status != SubmitStatus::accepted) {
      state.SkipWithError("submit refused");
      break;
    }
    done.wait(0, std::memory_order_acquire);
  }
  dispatcher.stop(Dispatcher::Clock::now());
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("parse_validate/simdjson", parse_validate_simdjson);
  benchmark::RegisterBenchmark("parse_validate/nlohmann", parse_validate_nlohmann);
  benchmark::RegisterBenchmark("parse_request/id", parse_request_bench, std::string("id:00412345"));
  benchmark::RegisterBenchmark("parse_request/ip4", parse_request_bench, std::string("ip:192.168.100.200"));
  benchmark::RegisterBenchmark("parse_request/ip6", parse_request_bench, std::string("ip:fd00:6b72:0:0:0:0:1:2345"));
  benchmark::RegisterBenchmark("keystore_insert/durable", keystore_insert_durable)->UseRealTime();
  benchmark::RegisterBenchmark("keystore_insert/already_registered", keystore_insert_already_registered);
  benchmark::RegisterBenchmark("dispatcher_round_trip", dispatcher_round_trip)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
