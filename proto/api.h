// The santander.recsys.v1 API types and stubs, with a short namespace alias.
//
//   #include "proto/api.h"
//   recsys::v1::CustomerRecord customer;
//   customer.set_ncodpers(15889);
//
// The generated headers live in the build tree (target recsys_proto); this
// header is the one place that names them.
#ifndef RECSYS_PROTO_API_H_
#define RECSYS_PROTO_API_H_

#include "santander/recsys/v1/recommender.grpc.pb.h"  // IWYU pragma: export
#include "santander/recsys/v1/recommender.pb.h"       // IWYU pragma: export

namespace recsys {
namespace v1 = ::santander::recsys::v1;
}  // namespace recsys

#endif  // RECSYS_PROTO_API_H_
