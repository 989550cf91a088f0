// HTTP answers in the end-to-end tests of the HTTP/JSON API and the web
// console: a cpp-httplib result reduced to what the tests check.
//
//   httplib::Client http("127.0.0.1", port);
//   HttpAnswer answer = Answer(http.Get("/readyz"));
//   EXPECT_EQ(answer.status, 200);
#ifndef RECSYS_TESTS_HTTP_TESTING_H_
#define RECSYS_TESTS_HTTP_TESTING_H_

#include <httplib.h>

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace recsys::testing {

// An HTTP answer: status, headers, and the body as text and parsed as JSON
// (null if it is not JSON).
struct HttpAnswer {
  int status = 0;
  std::string body;
  nlohmann::json json;
  httplib::Headers headers;
};

// `result` as an HttpAnswer; a test failure (and status 0) when the call
// got no answer.
inline HttpAnswer Answer(const httplib::Result& result) {
  HttpAnswer out;
  if (!result) {
    ADD_FAILURE() << "HTTP call failed: " << httplib::to_string(result.error());
    return out;
  }
  out.status = result->status;
  out.body = result->body;
  out.headers = result->headers;
  out.json = nlohmann::json::parse(result->body, nullptr, false);
  return out;
}

// The value of header `name` in `answer`, "" when it has none.
inline std::string Header(const HttpAnswer& answer, const std::string& name) {
  auto it = answer.headers.find(name);
  return it == answer.headers.end() ? "" : it->second;
}

}  // namespace recsys::testing

#endif  // RECSYS_TESTS_HTTP_TESTING_H_
