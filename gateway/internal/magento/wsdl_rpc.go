package magento

import "strings"

// The rpc/encoded WSDLs of v1 and v2. Their messages are named as
// Magento's: v1's after the operation ({op}, {op}Response), v2's with
// Request and Response.

const (
	v1Action = "urn:Mage_Api_Model_Server_HandlerAction"
	v2Action = "urn:Mage_Api_Model_Server_V2_HandlerAction"
)

var (
	v1Ops = []string{"login", "call", "endSession"}
	v2Ops = []string{"login", "endSession", "enterpriseCustomerbalanceHistory"}
)

// loginMessages and endSessionMessages are the same in v1 and v2 but for
// the names' suffixes.
func loginMessages(in string) string {
	return message("login"+in, "username", "xsd:string", "apiKey", "xsd:string") +
		message("loginResponse", "loginReturn", "xsd:string")
}

func endSessionMessages(in string) string {
	return message("endSession"+in, "sessionId", "xsd:string") +
		message("endSessionResponse", "endSessionReturn", "xsd:boolean")
}

// wsdlV1 is v1's WSDL: login, call and endSession, the generic API whose
// call takes a resource path and anyType arguments. %s is the address.
var wsdlV1 = wsdlHead + schemaEnd + loginMessages("") +
	message("call", "sessionId", "xsd:string", "resourcePath", "xsd:string", "args", "xsd:anyType") +
	message("callResponse", "callReturn", "xsd:anyType") +
	endSessionMessages("") +
	portBindingService("Mage_Api_Model_Server_Handler", v1Ops, "", "Response", v1Action, rpcEncoded)

// wsdlV2 is v2's WSDL: login, endSession and
// enterpriseCustomerbalanceHistory, whose result is a SOAP-encoded array of
// the history entity. %[1]s is the address, in two places: the service's,
// and the SOAP-encoding schema's location (see encodingSchema).
var wsdlV2 = strings.ReplaceAll(strings.Replace(wsdlHead, encodingImport, encodingImportAt, 1), "%s", "%[1]s") + entityTypes(`
        <xsd:complexContent>
          <xsd:restriction base="soapenc:Array">
            <xsd:attribute ref="soapenc:arrayType" wsdl:arrayType="typens:enterpriseCustomerbalanceHistoryItemEntity[]"/>
          </xsd:restriction>
        </xsd:complexContent>`) + schemaEnd + loginMessages("Request") + endSessionMessages("Request") +
	message("enterpriseCustomerbalanceHistoryRequest", "sessionId", "xsd:string", "customerId", "xsd:string", "websiteId", "xsd:string") +
	message("enterpriseCustomerbalanceHistoryResponse", "result", "typens:enterpriseCustomerbalanceHistoryItemEntityArray") +
	strings.ReplaceAll(portBindingService("Mage_Api_Model_Server_V2_Handler", v2Ops, "Request", "Response", v2Action, rpcEncoded), "%s", "%[1]s")
