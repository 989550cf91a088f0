#include "featurizer/binning.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace recsys {
namespace {

using nlohmann::json;

constexpr absl::string_view kOther = "other";
constexpr absl::string_view kUnknown = "unknown";
constexpr absl::string_view kMissing = "missing";

// Shortest text that reads back as the same float ("0.1", "87218.1").
std::string FloatText(float v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "?";
}

template <typename T>
absl::StatusOr<std::vector<T>> NumberArray(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("binning: \"", key, "\" must be an array"));
  }
  std::vector<T> out;
  for (const json& v : *it) {
    if (!v.is_number()) {
      return absl::InvalidArgumentError(
          absl::StrCat("binning: \"", key, "\" holds a non-number"));
    }
    out.push_back(v.get<T>());
  }
  return out;
}

}  // namespace

double Psi(const std::vector<double>& actual_counts,
           const std::vector<double>& expected_shares) {
  if (actual_counts.size() != expected_shares.size()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  double total = 0;
  for (double c : actual_counts) total += c;
  if (!(total > 0)) return std::numeric_limits<double>::quiet_NaN();
  double psi = 0;
  for (size_t i = 0; i < actual_counts.size(); ++i) {
    const double a = std::max(actual_counts[i] / total, kPsiFloor);
    const double e = std::max(expected_shares[i], kPsiFloor);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

Binning Binning::Numeric(std::vector<float> values, int max_bins) {
  Binning b;
  b.type_ = Type::kNumeric;
  std::vector<float> sorted;
  sorted.reserve(values.size());
  for (float v : values) {
    if (!std::isnan(v)) sorted.push_back(v);
  }
  std::sort(sorted.begin(), sorted.end());
  const size_t m = sorted.size();
  for (int q = 1; q < max_bins && m > 0; ++q) {
    // ceil(q * m / max_bins) - 1, in integers.
    const size_t idx =
        (static_cast<size_t>(q) * m + max_bins - 1) / max_bins - 1;
    const float edge = sorted[idx];
    if (b.edges_.empty() || edge > b.edges_.back()) b.edges_.push_back(edge);
  }
  b.SetLabels({});
  b.ComputeShares(values);
  return b;
}

Binning Binning::Categorical(absl::Span<const float> codes, int vocab_size,
                             const std::vector<std::string>& categories,
                             int max_categories) {
  Binning b;
  b.type_ = Type::kCategorical;
  b.vocab_size_ = std::max(vocab_size, 0);
  b.top_ = std::clamp(max_categories, 0, b.vocab_size_);
  b.SetLabels(categories);
  b.ComputeShares(codes);
  return b;
}

void Binning::SetLabels(const std::vector<std::string>& categories) {
  labels_.clear();
  if (type_ == Type::kNumeric) {
    if (edges_.empty()) labels_.push_back("all");
    for (size_t i = 0; i < edges_.size(); ++i) {
      labels_.push_back(i == 0 ? absl::StrCat("<=", FloatText(edges_[0]))
                               : absl::StrCat("(", FloatText(edges_[i - 1]),
                                              ",", FloatText(edges_[i]), "]"));
    }
    if (!edges_.empty())
      labels_.push_back(absl::StrCat(">", FloatText(edges_.back())));
  } else {
    absl::flat_hash_set<std::string> used = {
        std::string(kOther), std::string(kUnknown), std::string(kMissing)};
    for (int c = 0; c < top_; ++c) {
      std::string label = c < static_cast<int>(categories.size())
                              ? categories[c]
                              : absl::StrCat("code_", c);
      // Keep labels distinct from the reserved ones and from each other.
      if (!used.insert(label).second) label = absl::StrCat("code_", c);
      labels_.push_back(std::move(label));
    }
    labels_.emplace_back(kOther);
    labels_.emplace_back(kUnknown);
  }
  labels_.emplace_back(kMissing);
}

void Binning::ComputeShares(absl::Span<const float> values) {
  shares_.assign(labels_.size(), 0.0);
  for (float v : values) shares_[Bin(v)] += 1;
  if (!values.empty()) {
    for (double& s : shares_) s /= static_cast<double>(values.size());
  }
}

int Binning::Bin(float value) const {
  const int missing = num_bins() - 1;
  if (std::isnan(value)) return missing;
  if (type_ == Type::kNumeric) {
    return static_cast<int>(
        std::lower_bound(edges_.begin(), edges_.end(), value) - edges_.begin());
  }
  if (value == static_cast<float>(vocab_size_)) return top_ + 1;  // unknown
  if (value >= 0 && value < static_cast<float>(top_) &&
      value == std::floor(value)) {
    return static_cast<int>(value);
  }
  return top_;  // other
}

json Binning::ToJson() const {
  json j = {{"labels", labels_}, {"shares", shares_}};
  if (type_ == Type::kNumeric) {
    j["type"] = "numeric";
    j["edges"] = edges_;
  } else {
    j["type"] = "categorical";
    j["vocab_size"] = vocab_size_;
    j["top"] = top_;
  }
  return j;
}

absl::StatusOr<Binning> Binning::FromJson(const json& j) {
  if (!j.is_object())
    return absl::InvalidArgumentError("binning must be an object");
  auto type = j.find("type");
  auto labels = j.find("labels");
  if (type == j.end() || !type->is_string() || labels == j.end() ||
      !labels->is_array()) {
    return absl::InvalidArgumentError("binning: needs \"type\" and \"labels\"");
  }
  Binning b;
  int expected_bins = 0;
  if (*type == "numeric") {
    b.type_ = Type::kNumeric;
    auto edges = NumberArray<float>(j, "edges");
    if (!edges.ok()) return edges.status();
    b.edges_ = *std::move(edges);
    for (size_t i = 0; i < b.edges_.size(); ++i) {
      if (!std::isfinite(b.edges_[i]) ||
          (i > 0 && !(b.edges_[i] > b.edges_[i - 1]))) {
        return absl::InvalidArgumentError(
            "binning: edges must increase strictly");
      }
    }
    expected_bins = static_cast<int>(b.edges_.size()) + 2;
  } else if (*type == "categorical") {
    b.type_ = Type::kCategorical;
    auto vocab = j.find("vocab_size");
    auto top = j.find("top");
    if (vocab == j.end() || !vocab->is_number_integer() || top == j.end() ||
        !top->is_number_integer() || top->get<int64_t>() < 0 ||
        top->get<int64_t>() > vocab->get<int64_t>() ||
        top->get<int64_t>() > (1 << 20)) {
      return absl::InvalidArgumentError(
          "binning: bad \"vocab_size\" or \"top\"");
    }
    b.vocab_size_ = static_cast<int>(vocab->get<int64_t>());
    b.top_ = static_cast<int>(top->get<int64_t>());
    expected_bins = b.top_ + 3;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("binning: unknown type ", type->dump()));
  }
  for (const json& l : *labels) {
    if (!l.is_string())
      return absl::InvalidArgumentError("binning: labels must be strings");
    b.labels_.push_back(l.get<std::string>());
  }
  auto shares = NumberArray<double>(j, "shares");
  if (!shares.ok()) return shares.status();
  b.shares_ = *std::move(shares);
  if (static_cast<int>(b.labels_.size()) != expected_bins ||
      static_cast<int>(b.shares_.size()) != expected_bins) {
    return absl::InvalidArgumentError(absl::StrCat(
        "binning: expected ", expected_bins, " labels and shares"));
  }
  return b;
}

}  // namespace recsys
