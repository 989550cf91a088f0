#include "featurizer/feature_spec.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSmallSpec[] = R"({
  "format_version": 1,
  "features": [
    {"kind": "numeric", "column": "age"},
    {"kind": "categorical", "column": "sexo", "min_count": 5},
    {"kind": "date", "feature": "months_since_alta"},
    {"kind": "product_lags", "lags": 2},
    {"kind": "history", "feature": "additions", "window": 3}
  ]
})";

FeatureSpec Parse(absl::string_view text) {
  absl::StatusOr<FeatureSpec> spec = ParseFeatureSpec(text);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

absl::Status ParseError(absl::string_view features_json) {
  return ParseFeatureSpec(absl::StrCat(R"({"features": )", features_json, "}"))
      .status();
}

TEST(FeatureSpec, DefaultConfigLoads) {
  auto spec = LoadFeatureSpec(RECSYS_SOURCE_DIR "/config/feature_spec.json");
  ASSERT_TRUE(spec.ok()) << spec.status();
  // 7 numerics + 11 categoricals + 6 dates + 24 * 3 lags + 4 history features.
  EXPECT_EQ(spec->num_features(), 100);
  EXPECT_EQ(spec->required_history_months(), 4);
}

TEST(FeatureSpec, FeatureNamesInOutputOrder) {
  FeatureSpec spec = Parse(kSmallSpec);
  ASSERT_EQ(spec.num_features(), 3 + 48 + 1);
  EXPECT_EQ(spec.feature_names()[0], "age");
  EXPECT_EQ(spec.feature_names()[1], "sexo");
  EXPECT_EQ(spec.feature_names()[2], "months_since_alta");
  EXPECT_EQ(spec.feature_names()[3], "ind_ahor_fin_ult1_lag1");
  EXPECT_EQ(spec.feature_names()[3 + 24], "ind_ahor_fin_ult1_lag2");
  EXPECT_EQ(spec.feature_names()[3 + 47], "ind_recibo_ult1_lag2");
  EXPECT_EQ(spec.feature_names().back(), "additions_3m");
  EXPECT_EQ(spec.entries()[4].first_feature, 51);
}

TEST(FeatureSpec, RequiredHistoryCoversLagsAndWindow) {
  EXPECT_EQ(Parse(kSmallSpec).required_history_months(), 4);  // window 3 + 1
  EXPECT_EQ(Parse(R"({"features": [{"kind": "numeric", "column": "age"}]})")
                .required_history_months(),
            0);
}

TEST(FeatureSpec, UnknownKindIsRejectedNamingTheEntry) {
  absl::Status s = ParseError(
      R"([{"kind": "numeric", "column": "age"}, {"kind": "bogus"}])");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("features[1]"));
  EXPECT_THAT(s.message(), HasSubstr("bogus"));
}

TEST(FeatureSpec, UnknownColumnIsRejected) {
  EXPECT_THAT(
      ParseError(R"([{"kind": "numeric", "column": "height"}])").message(),
      HasSubstr("\"height\" is not a numeric column"));
}

TEST(FeatureSpec, TextColumnIsNotNumeric) {
  EXPECT_EQ(ParseError(R"([{"kind": "numeric", "column": "sexo"}])").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FeatureSpec, MisspelledParameterIsRejected) {
  EXPECT_THAT(
      ParseError(
          R"([{"kind": "categorical", "column": "sexo", "min_cout": 3}])")
          .message(),
      HasSubstr("unknown key \"min_cout\""));
}

TEST(FeatureSpec, ParameterOutOfRangeIsRejected) {
  EXPECT_THAT(ParseError(R"([{"kind": "product_lags", "lags": 13}])").message(),
              HasSubstr("1..12"));
  EXPECT_EQ(
      ParseError(R"([{"kind": "history", "feature": "drops", "window": 0}])")
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError(R"([{"kind": "product_lags", "lags": "3"}])").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FeatureSpec, DuplicateFeatureIsRejected) {
  EXPECT_THAT(ParseError(R"([{"kind": "numeric", "column": "age"},
                             {"kind": "numeric", "column": "age"}])")
                  .message(),
              HasSubstr("duplicate feature \"age\""));
}

TEST(FeatureSpec, EmptyOrMalformedSpecIsRejected) {
  EXPECT_EQ(ParseError("[]").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFeatureSpec("{\"features\": [").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFeatureSpec(R"({"format_version": 2, "features": []})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FeatureSpec, MissingFileIsNotFound) {
  EXPECT_EQ(LoadFeatureSpec("/nonexistent/spec.json").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(FeatureSpec, ToJsonRoundTrips) {
  FeatureSpec spec = Parse(kSmallSpec);
  absl::StatusOr<FeatureSpec> again = FeatureSpec::FromJson(spec.ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->feature_names(), spec.feature_names());
  EXPECT_EQ(again->SpecHash(), spec.SpecHash());
}

TEST(SpecHash, IsSixteenHexDigitsAndPinned) {
  const std::string hash = Parse(kSmallSpec).SpecHash();
  EXPECT_THAT(hash, ::testing::MatchesRegex("[0-9a-f]{16}"));
  // Pinned: a change here means every published bundle's hash changes.
  EXPECT_EQ(hash, "4e8ad467c3d00068");
}

TEST(SpecHash, SameForDifferentKeyOrder) {
  FeatureSpec a = Parse(
      R"({"features": [{"kind": "categorical", "column": "sexo", "min_count": 5}],
                            "format_version": 1})");
  FeatureSpec b = Parse(R"({"format_version": 1,
                            "features": [{"min_count": 5, "column": "sexo", "kind": "categorical"}]})");
  EXPECT_EQ(a.SpecHash(), b.SpecHash());
}

TEST(SpecHash, SameWhenADefaultIsOmitted) {
  FeatureSpec a = Parse(R"({"features": [{"kind": "product_lags"}]})");
  FeatureSpec b =
      Parse(R"({"features": [{"kind": "product_lags", "lags": 3}]})");
  EXPECT_EQ(a.SpecHash(), b.SpecHash());
}

TEST(SpecHash, IgnoresTheDescription) {
  FeatureSpec a = Parse(
      R"({"description": "one", "features": [{"kind": "product_lags"}]})");
  FeatureSpec b = Parse(
      R"({"description": "two", "features": [{"kind": "product_lags"}]})");
  EXPECT_EQ(a.SpecHash(), b.SpecHash());
}

TEST(SpecHash, ChangesWithAnyParameter) {
  FeatureSpec a = Parse(
      R"({"features": [{"kind": "categorical", "column": "sexo", "min_count": 5}]})");
  FeatureSpec b = Parse(
      R"({"features": [{"kind": "categorical", "column": "sexo", "min_count": 6}]})");
  FeatureSpec c = Parse(
      R"({"features": [{"kind": "categorical", "column": "indext", "min_count": 5}]})");
  EXPECT_NE(a.SpecHash(), b.SpecHash());
  EXPECT_NE(a.SpecHash(), c.SpecHash());
}

TEST(SpecHash, ChangesWithFeatureOrder) {
  FeatureSpec a = Parse(R"({"features": [{"kind": "numeric", "column": "age"},
                                         {"kind": "numeric", "column": "renta"}]})");
  FeatureSpec b = Parse(R"({"features": [{"kind": "numeric", "column": "renta"},
                                         {"kind": "numeric", "column": "age"}]})");
  EXPECT_NE(a.SpecHash(), b.SpecHash());
}

TEST(FeatureSpec, CategoricalEntriesInSpecOrder) {
  FeatureSpec spec =
      Parse(R"({"features": [{"kind": "categorical", "column": "sexo"},
                                            {"kind": "numeric", "column": "age"},
                                            {"kind": "categorical", "column": "segmento"}]})");
  std::vector<int> columns;
  for (const FeatureEntry* e : spec.categorical_entries())
    columns.push_back(e->column);
  EXPECT_THAT(columns, ElementsAre(kSexo, kSegmento));
  EXPECT_EQ(spec.categorical_entries()[0]->min_count, kDefaultMinCount);
}

}  // namespace
}  // namespace recsys
