// The pricing service the protobuf-to-thrift example calls (Apache Thrift IDL).
namespace py pricing

exception NotFound {
  1: string sku,
  2: string reason,
}

struct Quote {
  1: required string sku,
  2: i32 qty,
  3: i64 cents,        // may exceed 2^53: Weft keeps it exact
  4: list<string> tags,
}

service Pricing {
  Quote quote(1: string sku, 2: i32 qty) throws (1: NotFound notFound),
}
