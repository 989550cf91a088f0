#include "featurizer/featurizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/raw_columns.h"
#include "featurizer/cleaning.h"

namespace recsys {
namespace {

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

// Products added (or dropped) between consecutive present months over lags
// 1..window+1; NaN when no pair of consecutive months is present.
float CountChanges(const HistoryView& h, int window, bool additions) {
  int total = 0;
  bool any = false;
  for (int lag = 1; lag <= window; ++lag) {
    if (!h.Present(lag) || !h.Present(lag + 1)) continue;
    any = true;
    const ProductMask now = h.Owned(lag);
    const ProductMask before = h.Owned(lag + 1);
    total += CountProducts(additions ? now & ~before : before & ~now);
  }
  return any ? static_cast<float>(total) : kNaNf;
}

float HistoryValue(const FeatureEntry& e, const HistoryView& h) {
  switch (e.history) {
    case HistoryFeature::kProductsLastMonth:
      return h.Present(1) ? static_cast<float>(CountProducts(h.Owned(1)))
                          : kNaNf;
    case HistoryFeature::kAdditions:
      return CountChanges(h, e.window, /*additions=*/true);
    case HistoryFeature::kDrops:
      return CountChanges(h, e.window, /*additions=*/false);
    case HistoryFeature::kMonthsSinceFirstSeen:
      return h.found ? static_cast<float>(h.first_seen_months_ago) : kNaNf;
  }
  return kNaNf;
}

}  // namespace

Featurizer::Featurizer(FeatureSpec spec, Vocabularies vocabularies)
    : spec_(std::move(spec)), vocabularies_(std::move(vocabularies)) {}

absl::StatusOr<std::unique_ptr<const Featurizer>> Featurizer::Create(
    const FeatureSpec& spec, const Vocabularies& vocabularies) {
  std::unique_ptr<Featurizer> f(new Featurizer(spec, vocabularies));
  const std::vector<std::string>& names = f->spec_.feature_names();
  for (const FeatureEntry& e : f->spec_.entries()) {
    Op op{e, nullptr};
    if (e.kind == FeatureKind::kCategorical) {
      op.vocabulary = f->vocabularies_.Find(RawColumnName(e.column));
      if (op.vocabulary == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("no vocabulary for categorical feature \"",
                         RawColumnName(e.column), "\""));
      }
    }
    for (int i = 0; i < e.num_features; ++i) {
      FeatureInfo info;
      info.name = names[e.first_feature + i];
      info.kind = e.kind;
      info.raw_column = FeatureEntryRawColumn(e);
      if (op.vocabulary != nullptr) {
        info.vocab_size = op.vocabulary->size();
        info.categories = op.vocabulary->categories();
      }
      if (e.kind == FeatureKind::kProductLags) {
        info.product = i % kNumProducts;
        info.lag = i / kNumProducts + 1;
      }
      info.follows_calendar =
          (e.kind == FeatureKind::kDate &&
           e.date == DateFeature::kFechaDatoMonth) ||
          (e.kind == FeatureKind::kHistory &&
           e.history == HistoryFeature::kMonthsSinceFirstSeen);
      f->schema_.features.push_back(std::move(info));
    }
    f->ops_.push_back(op);
  }
  return std::unique_ptr<const Featurizer>(std::move(f));
}

void Featurizer::AdvanceOneMonth(float* row) const {
  for (const Op& op : ops_) {
    const FeatureEntry& e = op.entry;
    float& v = row[e.first_feature];
    if (std::isnan(v)) continue;
    if (e.kind == FeatureKind::kDate && e.date == DateFeature::kFechaDatoMonth) {
      v = v >= 12 ? 1 : v + 1;
    } else if ((e.kind == FeatureKind::kDate &&
                e.date == DateFeature::kMonthsSinceAlta) ||
               (e.kind == FeatureKind::kHistory &&
                e.history == HistoryFeature::kMonthsSinceFirstSeen)) {
      v += 1;
    }
  }
}

void Featurizer::Featurize(const RawRecord& record, const HistoryView& history,
                           float* out) const {
  for (const Op& op : ops_) {
    const FeatureEntry& e = op.entry;
    float* o = out + e.first_feature;
    switch (e.kind) {
      case FeatureKind::kNumeric:
        *o = static_cast<float>(CleanNumeric(record, e.column).value);
        break;
      case FeatureKind::kCategorical: {
        const CleanedText text = CleanCategorical(record, e.column);
        *o = text.ok() ? static_cast<float>(op.vocabulary->Code(text.text))
                       : kNaNf;
        break;
      }
      case FeatureKind::kDate:
        *o = static_cast<float>(CleanDateFeature(record, e.date).value);
        break;
      case FeatureKind::kProductLags:
        for (int lag = 1; lag <= e.lags; ++lag, o += kNumProducts) {
          if (!history.Present(lag)) {
            std::fill(o, o + kNumProducts, kNaNf);
            continue;
          }
          const ProductMask owned = history.Owned(lag);
          for (int p = 0; p < kNumProducts; ++p) {
            o[p] = static_cast<float>((owned >> p) & 1u);
          }
        }
        break;
      case FeatureKind::kHistory:
        *o = HistoryValue(e, history);
        break;
    }
  }
}

}  // namespace recsys
