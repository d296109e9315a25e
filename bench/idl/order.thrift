// The benchmark's order message (bench/codecs.ts, scenario S5), kept field for field equal to
// order.proto so that both codecs carry the same content.
namespace js bench

enum Status { PENDING = 1, PAID = 2, SHIPPED = 3, DELIVERED = 7 }

struct Address {
  1: string street,
  2: string city,
  3: string zip,
  4: string country,
}

struct Line {
  1: string sku,
  2: string title,
  3: i32 qty,
  4: i64 cents,
  5: double weight,
  6: list<string> tags,
}

struct Customer {
  1: i64 id,
  2: string name,
  3: string email,
  4: Address shipTo,
}

struct Order {
  1: required i64 id,
  2: Customer customer,
  3: list<Line> lines,
  4: map<string, string> attributes,
  5: Status status,
  6: i64 createdMs,
  7: string note,
  8: bool gift,
}

/** S5's backend: totals an order. */
struct Priced {
  1: i64 orderId,
  2: Status status,
  3: i32 items,
  4: i64 totalCents,
  5: string currency,
}

service Pricing {
  Priced price(1: Order order),
}
