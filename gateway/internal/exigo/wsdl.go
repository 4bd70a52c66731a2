package exigo

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
)

// serveWSDL answers the WSDL with the endpoint's address.
func (h *Handler) serveWSDL(w http.ResponseWriter, r *http.Request) {
	soapxml.WriteWSDL(w, r, wsdlTemplate, h.publicURL, "/3.0/ExigoApi.asmx")
}

// extendedFieldElements are Field1 … Field30 of UpdateCustomerExtendedRequest.
var extendedFieldElements = func() string {
	var b strings.Builder
	for i := 1; i <= extendedFieldCount; i++ {
		fmt.Fprintf(&b, `
          <s:element minOccurs="1" maxOccurs="1" name="Field%d" nillable="true" type="s:string"/>`, i)
	}
	return b.String()
}()

// wsdlOperations are the operations the WSDL declares, in its order.
var wsdlOperations = []string{"GetCustomerBalances", "UpdateCustomerExtended"}

// perOperation repeats text for each operation, {op} its name.
func perOperation(text string) string {
	var b strings.Builder
	for _, op := range wsdlOperations {
		b.WriteString(strings.ReplaceAll(text, "{op}", op))
	}
	return b.String()
}

// wsdlTemplate is Abacus's own WSDL 1.1 of ExigoApi.asmx (see README.md):
// document/literal SOAP 1.1, the ApiAuthentication header on every
// operation's input. It references nothing outside itself, so it loads
// offline. %s is the endpoint address.
var wsdlTemplate = `<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:s="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="http://api.exigo.com/"
    targetNamespace="http://api.exigo.com/">
  <wsdl:types>
    <s:schema elementFormDefault="qualified" targetNamespace="http://api.exigo.com/">
      <s:element name="ApiAuthentication" type="tns:ApiAuthentication"/>
      <s:complexType name="ApiAuthentication">
        <s:sequence>
          <s:element minOccurs="0" maxOccurs="1" name="LoginName" type="s:string"/>
          <s:element minOccurs="0" maxOccurs="1" name="Password" type="s:string"/>
          <s:element minOccurs="0" maxOccurs="1" name="Company" type="s:string"/>
          <s:element minOccurs="0" maxOccurs="1" name="Identity" type="s:string"/>
          <s:element minOccurs="1" maxOccurs="1" name="RequestTimeUtc" type="s:dateTime"/>
          <s:element minOccurs="0" maxOccurs="1" name="Signature" type="s:string"/>
        </s:sequence>
        <s:anyAttribute/>
      </s:complexType>
      <s:element name="GetCustomerBalancesRequest" type="tns:GetCustomerBalancesRequest"/>
      <s:complexType name="GetCustomerBalancesRequest">
        <s:sequence>
          <s:element minOccurs="1" maxOccurs="1" name="CustomerID" type="s:int"/>
          <s:element minOccurs="0" maxOccurs="1" name="CustomerKey" type="s:string"/>
        </s:sequence>
      </s:complexType>
      <s:element name="GetCustomerBalancesResult" type="tns:GetCustomerBalancesResponse"/>
      <s:complexType name="GetCustomerBalancesResponse">
        <s:sequence>
          <s:element minOccurs="0" maxOccurs="1" name="Result" type="tns:ApiResult"/>
          <s:element minOccurs="0" maxOccurs="1" name="CustomerBalances" type="tns:ArrayOfCustomerBalanceResponse"/>
        </s:sequence>
      </s:complexType>
      <s:complexType name="ArrayOfCustomerBalanceResponse">
        <s:sequence>
          <s:element minOccurs="0" maxOccurs="unbounded" name="CustomerBalanceResponse" nillable="true" type="tns:CustomerBalanceResponse"/>
        </s:sequence>
      </s:complexType>
      <s:complexType name="CustomerBalanceResponse">
        <s:sequence>
          <s:element minOccurs="0" maxOccurs="1" name="CurrencyCode" type="s:string"/>
          <s:element minOccurs="0" maxOccurs="1" name="CurrencyDescription" type="s:string"/>
          <s:element minOccurs="1" maxOccurs="1" name="Balance" type="s:decimal"/>
        </s:sequence>
      </s:complexType>
      <s:element name="UpdateCustomerExtendedRequest" type="tns:UpdateCustomerExtendedRequest"/>
      <s:complexType name="UpdateCustomerExtendedRequest">
        <s:sequence>
          <s:element minOccurs="1" maxOccurs="1" name="CustomerID" type="s:int"/>
          <s:element minOccurs="1" maxOccurs="1" name="ExtendedGroupID" type="s:int"/>
          <s:element minOccurs="1" maxOccurs="1" name="CustomerExtendedID" type="s:int"/>` + extendedFieldElements + `
          <s:element minOccurs="0" maxOccurs="1" name="CustomerKey" type="s:string"/>
        </s:sequence>
      </s:complexType>
      <s:element name="UpdateCustomerExtendedResult" type="tns:UpdateCustomerExtendedResponse"/>
      <s:complexType name="UpdateCustomerExtendedResponse">
        <s:sequence>
          <s:element minOccurs="0" maxOccurs="1" name="Result" type="tns:ApiResult"/>
        </s:sequence>
      </s:complexType>
      <s:complexType name="ApiResult">
        <s:sequence>
          <s:element minOccurs="1" maxOccurs="1" name="Status" type="tns:ResultStatus"/>
          <s:element minOccurs="0" maxOccurs="1" name="Errors" type="tns:ArrayOfString"/>
          <s:element minOccurs="0" maxOccurs="1" name="TransactionKey" type="s:string"/>
        </s:sequence>
      </s:complexType>
      <s:simpleType name="ResultStatus">
        <s:restriction base="s:string">
          <s:enumeration value="Success"/>
          <s:enumeration value="Failure"/>
        </s:restriction>
      </s:simpleType>
      <s:complexType name="ArrayOfString">
        <s:sequence>
          <s:element minOccurs="0" maxOccurs="unbounded" name="string" nillable="true" type="s:string"/>
        </s:sequence>
      </s:complexType>
    </s:schema>
  </wsdl:types>
  <wsdl:message name="ApiAuthenticationHeader">
    <wsdl:part name="ApiAuthentication" element="tns:ApiAuthentication"/>
  </wsdl:message>
` + perOperation(`
  <wsdl:message name="{op}SoapIn">
    <wsdl:part name="{op}Request" element="tns:{op}Request"/>
  </wsdl:message>
  <wsdl:message name="{op}SoapOut">
    <wsdl:part name="{op}Result" element="tns:{op}Result"/>
  </wsdl:message>`) + `
  <wsdl:portType name="ExigoApiSoap">` + perOperation(`
    <wsdl:operation name="{op}">
      <wsdl:input message="tns:{op}SoapIn"/>
      <wsdl:output message="tns:{op}SoapOut"/>
    </wsdl:operation>`) + `
  </wsdl:portType>
  <wsdl:binding name="ExigoApiSoap" type="tns:ExigoApiSoap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>` + perOperation(`
    <wsdl:operation name="{op}">
      <soap:operation soapAction="https://api.exigo.com/{op}" style="document"/>
      <wsdl:input>
        <soap:body use="literal"/>
        <soap:header message="tns:ApiAuthenticationHeader" part="ApiAuthentication" use="literal"/>
      </wsdl:input>
      <wsdl:output>
        <soap:body use="literal"/>
      </wsdl:output>
    </wsdl:operation>`) + `
  </wsdl:binding>
  <wsdl:service name="ExigoApi">
    <wsdl:port name="ExigoApiSoap" binding="tns:ExigoApiSoap">
      <soap:address location="%s"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`
