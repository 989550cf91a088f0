// The default feature spec (config/feature_spec.json), compiled into the
// program so that `recsys-train` works from any directory and in a container
// that has no config/ folder. The build embeds the file as it is at build
// time (CMake regenerates it when the file changes).
//
//   RECSYS_ASSIGN_OR_RETURN(FeatureSpec spec,
//                           ParseFeatureSpec(DefaultFeatureSpecJson()));
#ifndef RECSYS_TRAINING_DEFAULT_FEATURE_SPEC_H_
#define RECSYS_TRAINING_DEFAULT_FEATURE_SPEC_H_

#include "absl/strings/string_view.h"

namespace recsys {

// The JSON text of config/feature_spec.json; static storage.
absl::string_view DefaultFeatureSpecJson();

}  // namespace recsys

#endif  // RECSYS_TRAINING_DEFAULT_FEATURE_SPEC_H_
