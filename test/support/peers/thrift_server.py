"""A Thrift server built with Apache Thrift's Python library, for Weft's interop tests.

Usage: thrift_server.py GEN_PY_DIR MODE PROTOCOL [CERT KEY [CLIENT_CA]]
  MODE: framed | buffered | http;  PROTOCOL: binary | compact
  CERT KEY: serve framed or buffered over TLS (TSSLServerSocket); CLIENT_CA: require a client
  certificate it signed, and print "client CN=<cn>" for each client that presents one.
Serves pricing.Pricing (PRICING_IDL in test/support/python-peer.ts) on 127.0.0.1,
port 0; prints the port, then one line per oneway call it received.
"""
import sys, threading, time
sys.path.insert(0, sys.argv[1])
from pricing import Pricing
from pricing.ttypes import Quote, NotFound
from thrift.transport import TSocket, TTransport
from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.server import THttpServer

mode, proto = sys.argv[2], sys.argv[3]
tls_args = sys.argv[4:]


class Handler:
    def quote(self, sku, qty):
        if sku == 'missing':
            raise NotFound(sku=sku, reason='no such sku')
        return Quote(sku=sku, qty=qty, cents=qty * 9007199254740993, tags=['py', mode])

    def echo(self, item):
        return item

    def ping(self):
        pass

    def record(self, note):
        print('recorded ' + note, flush=True)

    def slow(self, ms):
        time.sleep(ms / 1000.0)
        return 'slept %d' % ms

    def boom(self):
        raise RuntimeError('handler crashed')


processor = Pricing.Processor(Handler())
pfactory = TCompactProtocol.TCompactProtocolFactory() if proto == 'compact' else TBinaryProtocol.TBinaryProtocolFactory()

if mode == 'http':
    server = THttpServer.THttpServer(processor, ('127.0.0.1', 0), pfactory)
    print(server.httpd.server_port, flush=True)
    server.serve()
else:
    tfactory = TTransport.TFramedTransportFactory() if mode == 'framed' else TTransport.TBufferedTransportFactory()
    if tls_args:
        import ssl
        from thrift.transport import TSSLSocket
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_args[0], tls_args[1])
        if len(tls_args) > 2:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(tls_args[2])

        def seen(cert, address):
            subject = dict(part[0] for part in cert.get('subject', ()))
            print('client CN=' + subject.get('commonName', ''), flush=True)

        transport = TSSLSocket.TSSLServerSocket(host='127.0.0.1', port=0, ssl_context=context, validate_callback=seen)
    else:
        transport = TSocket.TServerSocket(host='127.0.0.1', port=0)
    transport.listen()
    print(transport.handle.getsockname()[1], flush=True)

    def handle(client):
        itrans = tfactory.getTransport(client)
        otrans = tfactory.getTransport(client)
        iprot, oprot = pfactory.getProtocol(itrans), pfactory.getProtocol(otrans)
        try:
            while True:
                processor.process(iprot, oprot)
        except TTransport.TTransportException:
            pass
        except Exception:
            pass
        itrans.close()
        otrans.close()

    # TThreadedServer would listen again on a new port; this is its accept loop on our socket.
    while True:
        client = transport.accept()
        if client:
            threading.Thread(target=handle, args=(client,), daemon=True).start()
