"""A SOAP service built with spyne (Debian python3-spyne), for Weft's interop tests.

Serves the same service twice on 127.0.0.1, port 0: SOAP 1.1 and SOAP 1.2, each with its WSDL
at ?wsdl. Prints one JSON line {"soap11": port, "soap12": port} once both listen; exits when
stdin closes, so the test that started it never leaves it behind.
"""
import json
import logging
import sys
import threading
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, make_server

from spyne import Application, ComplexModel, Decimal as SDecimal, Fault, Integer, Iterable, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11, Soap12
from spyne.server.wsgi import WsgiApplication

TNS = "urn:weft:test:orders"


class Line(ComplexModel):
    __namespace__ = TNS
    sku = Unicode
    qty = Integer


class Order(ComplexModel):
    __namespace__ = TNS
    id = Unicode
    customer = Unicode
    total = SDecimal
    lines = Line.customize(max_occurs="unbounded")


class OrderService(ServiceBase):
    @rpc(Unicode, Integer, _returns=Iterable(Unicode))
    def sayHello(ctx, name, times):
        for _ in range(times or 1):
            yield "Hello, %s" % name

    @rpc(Unicode, _returns=Order)
    def getOrder(ctx, orderId):
        if orderId == "missing":
            raise Fault(faultcode="Client.NotFound", faultstring="no order missing", detail={"orderId": orderId})
        if orderId == "bare":
            raise Fault(faultcode="Server", faultstring="database unavailable")
        return Order(id=orderId, customer="ACME", total=Decimal("12345678901234567.89"),
                     lines=[Line(sku="A-1", qty=2), Line(sku="B-2", qty=1)])

    @rpc(Unicode, Decimal, _returns=Unicode)
    def createOrder(ctx, customer, total):
        return "ORD-%s-%s" % (customer, total)


def app(protocol):
    return WsgiApplication(Application([OrderService], tns=TNS, in_protocol=protocol(validator="lxml"), out_protocol=protocol()))


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def serve(protocol):
    server = make_server("127.0.0.1", 0, app(protocol), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_port


if __name__ == "__main__":
    # Faults are the point of some tests: keep spyne from printing their tracebacks.
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    ports = {"soap11": serve(Soap11), "soap12": serve(Soap12)}
    print(json.dumps(ports), flush=True)
    sys.stdin.read()
