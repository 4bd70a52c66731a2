package tracing

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// DBTracer is the pgx tracer of a pool: a span for each transaction, from
// BEGIN to its COMMIT or ROLLBACK, with each statement a child span; a
// statement outside a transaction (its own implicit one) is a span of its
// own. Only work done for a traced caller is traced: a statement whose
// context holds no recording span, outside a traced transaction, makes
// none, so probes and background loops stay out of the traces.
//
// pgx tells a tracer of statements, not of transactions; a transaction is
// recognised by its statements (BEGIN …, COMMIT, ROLLBACK), sent alone or
// inside a batch, and followed per connection, since one connection runs
// one transaction at a time. ConnClosed ends the span of a transaction
// whose connection the pool closes before it ended.
//
// Statement spans record the SQL text, never the arguments.
type DBTracer struct {
	tracer trace.Tracer
	conns  sync.Map // *pgx.Conn → *txState
}

var (
	_ pgx.QueryTracer = (*DBTracer)(nil)
	_ pgx.BatchTracer = (*DBTracer)(nil)
)

// txState is a connection's open transaction.
type txState struct {
	ctx  context.Context // holds the transaction's span
	span trace.Span
}

type stmtKey struct{}

// stmt is a statement span under way, found by TraceQueryEnd in its
// context.
type stmt struct {
	span trace.Span
	op   string
}

type batchKey struct{}

// batch follows a SendBatch: its statements' results are read in turn, and
// each statement's span runs from the previous result's reading to its own.
type batch struct {
	ctx  context.Context
	last time.Time
}

const maxQueryText = 2000

// operation is the statement's first keyword, upper-cased: the span's name.
func operation(sql string) string {
	sql = strings.TrimLeft(sql, " \t\r\n(")
	end := strings.IndexFunc(sql, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	if end < 0 {
		end = len(sql)
	}
	if end == 0 {
		return "SQL"
	}
	return strings.ToUpper(sql[:end])
}

func (t *DBTracer) state(conn *pgx.Conn) *txState {
	if v, ok := t.conns.Load(conn); ok {
		return v.(*txState)
	}
	return nil
}

// start begins the span of a statement on conn; ok is false when the
// statement is not traced.
func (t *DBTracer) start(ctx context.Context, conn *pgx.Conn, sql string, at time.Time) (context.Context, *stmt, bool) {
	op := operation(sql)
	parent := ctx
	tx := t.state(conn)
	switch {
	case op == "BEGIN" || op == "START":
		if !trace.SpanFromContext(ctx).IsRecording() {
			return ctx, nil, false
		}
		if tx != nil { // a transaction whose end was never seen
			tx.span.SetStatus(codes.Error, "transaction end not seen")
			tx.span.End(trace.WithTimestamp(at))
		}
		txCtx, span := t.tracer.Start(ctx, "db.transaction", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithTimestamp(at), trace.WithAttributes(attribute.String("db.system.name", "postgresql")))
		t.conns.Store(conn, &txState{ctx: txCtx, span: span})
		parent = txCtx
	case tx != nil:
		parent = tx.ctx
	case !trace.SpanFromContext(ctx).IsRecording():
		return ctx, nil, false
	}
	text := sql
	if len(text) > maxQueryText {
		text = text[:maxQueryText]
	}
	ctx, span := t.tracer.Start(parent, op, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at),
		trace.WithAttributes(
			attribute.String("db.system.name", "postgresql"),
			attribute.String("db.operation.name", op),
			attribute.String("db.query.text", text),
		))
	return ctx, &stmt{span: span, op: op}, true
}

// end ends a statement's span and, for a statement that ends the
// transaction (or a BEGIN that failed), the transaction's.
func (t *DBTracer) end(conn *pgx.Conn, s *stmt, tag pgconn.CommandTag, err error) {
	if err != nil {
		s.span.RecordError(err)
		s.span.SetStatus(codes.Error, errText(err))
	}
	s.span.End()
	switch s.op {
	case "COMMIT", "END", "ROLLBACK", "ABORT":
	case "BEGIN", "START":
		if err == nil {
			return
		}
	default:
		return
	}
	tx := t.state(conn)
	if tx == nil {
		return
	}
	t.conns.Delete(conn)
	switch {
	case err != nil:
		tx.span.SetStatus(codes.Error, errText(err))
	case s.op == "ROLLBACK" || s.op == "ABORT" || tag.String() == "ROLLBACK":
		// A COMMIT of a failed transaction answers ROLLBACK.
		tx.span.SetStatus(codes.Error, "rolled back")
	}
	tx.span.End()
}

// TraceQueryStart implements pgx.QueryTracer.
func (t *DBTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	ctx, s, ok := t.start(ctx, conn, data.SQL, time.Now())
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, stmtKey{}, s)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t *DBTracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	if s, ok := ctx.Value(stmtKey{}).(*stmt); ok {
		t.end(conn, s, data.CommandTag, data.Err)
	}
}

// TraceBatchStart implements pgx.BatchTracer.
func (t *DBTracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	if t.state(conn) == nil && !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	return context.WithValue(ctx, batchKey{}, &batch{ctx: ctx, last: time.Now()})
}

// TraceBatchQuery implements pgx.BatchTracer: called as each statement's
// result has been read.
func (t *DBTracer) TraceBatchQuery(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchQueryData) {
	b, ok := ctx.Value(batchKey{}).(*batch)
	if !ok {
		return
	}
	_, s, ok := t.start(b.ctx, conn, data.SQL, b.last)
	b.last = time.Now()
	if ok {
		t.end(conn, s, data.CommandTag, data.Err)
	}
}

// TraceBatchEnd implements pgx.BatchTracer.
func (t *DBTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// ConnClosed ends the span of a transaction left open on a connection the
// pool closes (a broken connection, or one released inside a transaction).
func (t *DBTracer) ConnClosed(conn *pgx.Conn) {
	v, ok := t.conns.LoadAndDelete(conn)
	if !ok {
		return
	}
	tx := v.(*txState)
	tx.span.SetStatus(codes.Error, "connection closed inside the transaction")
	tx.span.End()
}
