package grpcapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
)

// TenantAdmin implements customerv1.TenantAdminServiceServer.
type TenantAdmin struct {
	customerv1.UnimplementedTenantAdminServiceServer
	svc *tenant.Service
	log *slog.Logger
}

var _ customerv1.TenantAdminServiceServer = (*TenantAdmin)(nil)

// NewTenantAdmin returns the tenant administration server.
func NewTenantAdmin(svc *tenant.Service, log *slog.Logger) *TenantAdmin {
	return &TenantAdmin{svc: svc, log: log}
}

// TenantFree reports the methods that act on no single tenant: they need the
// service token only.
func TenantFree(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/"+customerv1.TenantAdminService_ServiceDesc.ServiceName+"/")
}

// CreateTenant implements the RPC.
func (s *TenantAdmin) CreateTenant(ctx context.Context, req *customerv1.CreateTenantRequest) (*customerv1.CreateTenantResponse, error) {
	t, err := s.svc.CreateTenant(ctx, req.GetName(), req.GetCompany())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.CreateTenantResponse{Tenant: tenantToProto(t)}, nil
}

// GetTenant implements the RPC.
func (s *TenantAdmin) GetTenant(ctx context.Context, req *customerv1.GetTenantRequest) (*customerv1.GetTenantResponse, error) {
	t, err := s.svc.GetTenant(ctx, req.GetTenantId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.GetTenantResponse{Tenant: tenantToProto(t)}, nil
}

type tenantPageToken struct {
	T  time.Time `json:"t"`
	ID string    `json:"id"`
}

// ListTenants implements the RPC.
func (s *TenantAdmin) ListTenants(ctx context.Context, req *customerv1.ListTenantsRequest) (*customerv1.ListTenantsResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 100
	}
	var after *store.TenantPage
	if tok := req.GetPageToken(); tok != "" {
		var pt tenantPageToken
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || json.Unmarshal(raw, &pt) != nil || pt.ID == "" {
			return nil, status.Error(codes.InvalidArgument, "page_token: malformed")
		}
		after = &store.TenantPage{AfterTime: pt.T, AfterID: pt.ID}
	}
	ts, err := s.svc.ListTenants(ctx, after, size+1)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &customerv1.ListTenantsResponse{}
	if len(ts) > size {
		ts = ts[:size]
		last := ts[len(ts)-1]
		raw, _ := json.Marshal(tenantPageToken{T: last.CreateTime, ID: last.ID})
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString(raw)
	}
	for _, t := range ts {
		resp.Tenants = append(resp.Tenants, tenantToProto(t))
	}
	return resp, nil
}

// CreateCredential implements the RPC.
func (s *TenantAdmin) CreateCredential(ctx context.Context, req *customerv1.CreateCredentialRequest) (*customerv1.CreateCredentialResponse, error) {
	nc, err := s.svc.CreateCredential(ctx, req.GetTenantId(), int(req.GetKind()), req.GetIdentifier())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.CreateCredentialResponse{Credential: credentialToProto(nc.Credential), Secret: nc.Secret}, nil
}

// ListCredentials implements the RPC.
func (s *TenantAdmin) ListCredentials(ctx context.Context, req *customerv1.ListCredentialsRequest) (*customerv1.ListCredentialsResponse, error) {
	cs, err := s.svc.ListCredentials(ctx, req.GetTenantId(), req.GetShowRevoked())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &customerv1.ListCredentialsResponse{}
	for _, c := range cs {
		resp.Credentials = append(resp.Credentials, credentialToProto(c))
	}
	return resp, nil
}

// RevokeCredential implements the RPC.
func (s *TenantAdmin) RevokeCredential(ctx context.Context, req *customerv1.RevokeCredentialRequest) (*customerv1.RevokeCredentialResponse, error) {
	c, err := s.svc.RevokeCredential(ctx, req.GetCredentialId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.RevokeCredentialResponse{Credential: credentialToProto(c)}, nil
}

// Authenticate implements the RPC.
func (s *TenantAdmin) Authenticate(ctx context.Context, req *customerv1.AuthenticateRequest) (*customerv1.AuthenticateResponse, error) {
	var c tenant.Credentials
	switch cred := req.GetCredential().(type) {
	case *customerv1.AuthenticateRequest_Exigo:
		c.Exigo = &tenant.ExigoCredentials{Login: cred.Exigo.GetLogin(), Company: cred.Exigo.GetCompany(), Password: cred.Exigo.GetPassword()}
	case *customerv1.AuthenticateRequest_Igsend:
		c.Igsend = &tenant.PairCredentials{User: cred.Igsend.GetPublicKey(), Secret: cred.Igsend.GetPrivateKey()}
	case *customerv1.AuthenticateRequest_Manex:
		c.Manex = cred.Manex.GetApiKey()
	case *customerv1.AuthenticateRequest_Magento:
		c.Magento = &tenant.PairCredentials{User: cred.Magento.GetApiUser(), Secret: cred.Magento.GetApiKey()}
	case *customerv1.AuthenticateRequest_Basic:
		c.Basic = &tenant.PairCredentials{User: cred.Basic.GetUsername(), Secret: cred.Basic.GetPassword()}
	case *customerv1.AuthenticateRequest_MagentoSession:
		c.MagentoSession = cred.MagentoSession.GetSessionId()
	}
	p, err := s.svc.Authenticate(ctx, c)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &customerv1.AuthenticateResponse{TenantId: p.TenantID, CredentialId: p.CredentialID, Kind: customerv1.CredentialKind(p.Kind)}
	if p.CacheFor > 0 {
		resp.CacheFor = durationpb.New(p.CacheFor)
	}
	return resp, nil
}

// StartMagentoSession implements the RPC.
func (s *TenantAdmin) StartMagentoSession(ctx context.Context, req *customerv1.StartMagentoSessionRequest) (*customerv1.StartMagentoSessionResponse, error) {
	c := req.GetCredential()
	m, err := s.svc.StartMagentoSession(ctx, tenant.PairCredentials{User: c.GetApiUser(), Secret: c.GetApiKey()})
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.StartMagentoSessionResponse{SessionId: m.ID, TenantId: m.TenantID, CredentialId: m.CredentialID}, nil
}

// EndMagentoSession implements the RPC.
func (s *TenantAdmin) EndMagentoSession(ctx context.Context, req *customerv1.EndMagentoSessionRequest) (*customerv1.EndMagentoSessionResponse, error) {
	if err := s.svc.EndMagentoSession(ctx, req.GetSessionId()); err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.EndMagentoSessionResponse{}, nil
}
