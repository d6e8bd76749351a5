#include "resolver/core/request.hpp"

#include <gtest/gtest.h>

namespace keyreq {
namespace {

Request expect_valid(std::string_view bytes) {
  auto parsed = parse_request(bytes);
  EXPECT_TRUE(std::holds_alternative<Request>(parsed)) << bytes;
  return std::holds_alternative<Request>(parsed) ? std::get<Request>(parsed) : Request{};
}

std::string expect_invalid(std::string_view bytes) {
  auto parsed = parse_request(bytes);
  EXPECT_TRUE(std::holds_alternative<InvalidRequest>(parsed)) << bytes;
  return std::holds_alternative<InvalidRequest>(parsed) ? std::get<InvalidRequest>(parsed).reason : "";
}

TEST(Request, IdAtBothLengthBoundaries) {
  EXPECT_EQ(expect_valid("id:001"), (Request{RequestKind::id, "001"}));
  EXPECT_EQ(expect_valid("id:12345678"), (Request{RequestKind::id, "12345678"}));
  expect_invalid("id:01");
  expect_invalid("id:123456789");
  expect_invalid("id:");
  expect_invalid("id:00a");
  expect_invalid("id:-01");
  expect_invalid("id: 001");
}

TEST(Request, IpFormsIncludingFullIpv6) {
  EXPECT_EQ(expect_valid("ip:192.168.1.100").value, "192.168.1.100");
  EXPECT_EQ(expect_valid("ip:2001:0db8:85a3:0000:0000:8a2e:0370:7334").kind, RequestKind::ip);
  EXPECT_EQ(expect_valid("ip:::1").value, "::1");
  expect_invalid("ip:192.168.1.0/24");  // a request names an address, not a network
  expect_invalid("ip:256.1.1.1");
  expect_invalid("ip:01.2.3.4");
  expect_invalid("ip:any");
  expect_invalid("ip:");
  expect_invalid("ip:fe80::1%eth0");
}

TEST(Request, OneTrailingNewlineTolerated) {
  EXPECT_EQ(expect_valid("id:001\n").value, "001");
  EXPECT_EQ(expect_valid("id:001\r\n").value, "001");
  expect_invalid("id:001\n\n");
  expect_invalid("id:001\r");
  expect_invalid("id:001 ");
  expect_invalid(std::string_view("id:001\0", 7));
  expect_invalid(std::string_view("ip:10.0.0.1\0x", 13));  // found by keyreq fuzz
}

TEST(Request, OtherFormsRejectedWithEscapedBytes) {
  const auto reason = expect_invalid("invalid:request");
  EXPECT_NE(reason.find("invalid:request"), std::string::npos);
  expect_invalid("ID:001");
  expect_invalid("");
  expect_invalid("id001");
  const auto injected = expect_invalid("id:1\nFAKE LOG LINE");
  EXPECT_EQ(injected.find('\n'), std::string::npos) << "raw newline reached the reason: " << injected;
}

TEST(Request, WireAndKindWord) {
  Request r{RequestKind::ip, "10.0.0.1"};
  EXPECT_EQ(r.wire(), "ip:10.0.0.1");
  EXPECT_EQ(r.kind_word(), "ip");
  EXPECT_TRUE(std::holds_alternative<InvalidRequest>(make_request("name", "x")));
}

}  // namespace
}  // namespace keyreq
