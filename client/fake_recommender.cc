#include "client/fake_recommender.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/products.h"

namespace recsys {
namespace {

std::vector<int> FakeProductIndices(int64_t ncodpers) {
  std::vector<int> indices;
  uint64_t n = static_cast<uint64_t>(ncodpers);
  for (int i = 0; i < 3; ++i, n /= kNumProducts) {
    const int index = static_cast<int>(n % kNumProducts);
    if (std::find(indices.begin(), indices.end(), index) == indices.end()) {
      indices.push_back(index);
    }
  }
  return indices;
}

void FillRecommendations(
    int64_t ncodpers,
    google::protobuf::RepeatedPtrField<v1::Recommendation>* recommendations) {
  int rank = 0;
  for (int index : FakeProductIndices(ncodpers)) {
    v1::Recommendation* r = recommendations->Add();
    r->set_product(std::string(kProducts[index].column));
    r->set_english_name(std::string(kProducts[index].english));
    r->set_rank(++rank);
    r->set_score(1.0 / (rank + 1));
  }
}

}  // namespace

std::string FakeProductsFor(int64_t ncodpers) {
  return absl::StrJoin(FakeProductIndices(ncodpers), " ",
                       [](std::string* out, int index) {
                         absl::StrAppend(out, kProducts[index].column);
                       });
}

grpc::Status FakeRecommenderService::Recommend(
    grpc::ServerContext*, const v1::RecommendRequest* request,
    v1::RecommendResponse* response) {
  {
    absl::MutexLock lock(&mu_);
    last_request_ = *request;
  }
  const int64_t ncodpers = request->customer().ncodpers();
  if (options_.bad_ncodpers.count(ncodpers) > 0) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("customer.ncodpers: refused, got ", ncodpers));
  }
  FillRecommendations(ncodpers, response->mutable_recommendations());
  response->set_model_name("fake");
  response->set_model_version(options_.model_version);
  response->set_history_found(request->history_size() > 0);
  response->set_history_source(request->history_size() > 0
                                   ? v1::HISTORY_SOURCE_REQUEST
                                   : v1::HISTORY_SOURCE_NOT_FOUND);
  response->set_fecha_dato(request->customer().has_fecha_dato()
                               ? request->customer().fecha_dato()
                               : "2016-06-28");
  return grpc::Status::OK;
}

grpc::Status FakeRecommenderService::RecommendStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::RecommendStreamResponse,
                             v1::RecommendStreamRequest>* stream) {
  size_t index = 0;
  {
    absl::MutexLock lock(&mu_);
    index = received_.size();
    received_.emplace_back();
  }
  v1::RecommendStreamRequest request;
  if (static_cast<int>(index) < options_.stalling_streams) {
    while (stream->Read(&request)) {
      absl::MutexLock lock(&mu_);
      for (const v1::ScoreRow& row : request.rows()) {
        received_[index].push_back(row.row_id());
      }
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "fake: stalled");
  }
  const bool failing = static_cast<int>(index) < options_.failing_streams;
  int answered_here = 0;
  // Answers `rows`; false when the injected failure is due.
  auto answer = [&](const std::vector<v1::ScoreRow>& rows) {
    v1::RecommendStreamResponse response;
    response.set_model_name("fake");
    response.set_model_version(options_.model_version);
    bool go_on = true;
    for (const v1::ScoreRow& row : rows) {
      if (failing && answered_here >= options_.answers_before_failure) {
        go_on = false;
        break;
      }
      v1::RowResult* result = response.add_results();
      result->set_row_id(row.row_id());
      const int64_t ncodpers = row.customer().ncodpers();
      result->set_ncodpers(ncodpers);
      if (options_.bad_ncodpers.count(ncodpers) > 0) {
        result->mutable_error()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
        result->mutable_error()->set_message(
            absl::StrCat("customer.ncodpers: refused, got ", ncodpers));
        result->mutable_error()->set_field_path("customer.ncodpers");
      } else {
        FillRecommendations(
            ncodpers,
            result->mutable_recommendations()->mutable_recommendations());
      }
      ++answered_here;
    }
    if (response.results_size() > 0) {
      {
        absl::MutexLock lock(&mu_);
        for (const v1::RowResult& r : response.results())
          ++answered_[r.row_id()];
      }
      stream->Write(response);
    }
    return go_on;
  };

  // The server going away: stop answering, read until cancelled.
  auto hang = [&] {
    {
      absl::MutexLock lock(&mu_);
      if (options_.hang_after_answers < 0 ||
          static_cast<int64_t>(answered_.size()) <
              options_.hang_after_answers) {
        return false;
      }
    }
    while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    return true;
  };
  std::vector<v1::ScoreRow> held;
  while (stream->Read(&request)) {
    if (hang()) return grpc::Status(grpc::StatusCode::CANCELLED, "fake: gone");
    std::vector<v1::ScoreRow> rows(request.rows().begin(),
                                   request.rows().end());
    {
      absl::MutexLock lock(&mu_);
      for (const v1::ScoreRow& row : rows)
        received_[index].push_back(row.row_id());
    }
    if (!options_.scramble) {
      if (!answer(rows)) return options_.failure;
      continue;
    }
    std::reverse(rows.begin(), rows.end());
    if (held.empty()) {
      held = std::move(rows);
      // A failure due before any answer happens as soon as rows arrive.
      if (failing && options_.answers_before_failure == 0)
        return options_.failure;
      continue;
    }
    if (!answer(rows) || !answer(held)) return options_.failure;
    held.clear();
  }
  if (!answer(held)) return options_.failure;
  return grpc::Status::OK;
}

grpc::Status FakeRecommenderService::GetModelInfo(
    grpc::ServerContext*, const v1::GetModelInfoRequest* request,
    v1::ModelInfo* response) {
  if (!request->version().empty() &&
      request->version() != options_.model_version) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no version ", request->version()));
  }
  response->set_name("fake");
  response->set_version(options_.model_version);
  response->set_feature_spec_hash("0123abcd");
  response->add_training_months("2016-04-28");
  response->set_validation_month("2016-05-28");
  response->mutable_validation_metrics()->set_model_map_at_7(0.0291);
  response->mutable_validation_metrics()->set_popularity_map_at_7(0.0198);
  response->mutable_validation_metrics()->set_ceiling_map_at_7(0.0350);
  response->mutable_created_time()->set_seconds(1467072000);
  response->mutable_load_time()->set_seconds(1467075600);
  response->set_history_month("2016-05-28");
  response->set_num_features(123);
  return grpc::Status::OK;
}

grpc::Status FakeRecommenderService::ListVersions(
    grpc::ServerContext*, const v1::ListVersionsRequest*,
    v1::ListVersionsResponse* response) {
  response->set_model_name("fake");
  v1::VersionInfo* old_version = response->add_versions();
  old_version->set_version("fake-v0");
  old_version->set_state(v1::VERSION_STATE_FAILED);
  old_version->set_reason("model file truncated");
  v1::VersionInfo* serving = response->add_versions();
  serving->set_version(options_.model_version);
  serving->set_state(v1::VERSION_STATE_SERVING);
  serving->mutable_loaded_time()->set_seconds(1467075600);
  response->set_serving_version(options_.model_version);
  response->set_policy(v1::VERSION_POLICY_LATEST);
  return grpc::Status::OK;
}

grpc::Status FakeRecommenderService::Pin(grpc::ServerContext*,
                                         const v1::PinRequest* request,
                                         v1::ServingChange* response) {
  if (request->version() != options_.model_version) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no version ", request->version()));
  }
  response->set_serving_version(request->version());
  response->set_previous_serving_version(options_.model_version);
  response->set_policy(v1::VERSION_POLICY_PINNED);
  return grpc::Status::OK;
}

std::vector<std::vector<uint64_t>> FakeRecommenderService::received() const {
  absl::MutexLock lock(&mu_);
  return received_;
}

std::map<uint64_t, int> FakeRecommenderService::answered() const {
  absl::MutexLock lock(&mu_);
  return answered_;
}

int FakeRecommenderService::streams() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(received_.size());
}

v1::RecommendRequest FakeRecommenderService::last_request() const {
  absl::MutexLock lock(&mu_);
  return last_request_;
}

absl::StatusOr<std::unique_ptr<FakeRecommenderServer>>
FakeRecommenderServer::Start(FakeRecommenderOptions options) {
  std::unique_ptr<FakeRecommenderServer> server(new FakeRecommenderServer());
  const int wanted_port = options.port;
  server->service_ =
      std::make_unique<FakeRecommenderService>(std::move(options));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", wanted_port),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(
      static_cast<v1::Recommender::Service*>(server->service_.get()));
  builder.RegisterService(
      static_cast<v1::ModelAdmin::Service*>(server->service_.get()));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "fake server: could not listen on 127.0.0.1:", wanted_port));
  }
  server->address_ = absl::StrCat("127.0.0.1:", port);
  return server;
}

FakeRecommenderServer::~FakeRecommenderServer() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(200));
  }
}

}  // namespace recsys
