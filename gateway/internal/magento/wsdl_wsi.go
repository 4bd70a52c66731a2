package magento

import "strings"

// wsiElement declares a WS-I operation's element: a sequence of children,
// each given as "name type" with an optional " optional".
func wsiElement(name string, children ...string) string {
	var b strings.Builder
	b.WriteString(`
      <xsd:element name="` + name + `">
        <xsd:complexType>
          <xsd:sequence>`)
	for _, c := range children {
		f := strings.Fields(c)
		b.WriteString(`
            <xsd:element name="` + f[0] + `" type="` + f[1] + `"`)
		if len(f) > 2 {
			b.WriteString(` minOccurs="0"`)
		}
		b.WriteString(`/>`)
	}
	b.WriteString(`
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>`)
	return b.String()
}

// wsiMessages are an operation's two messages, each one element.
func wsiMessages(op, in string) string {
	return message(op+"Request", "parameters", "element:typens:"+op+in) +
		message(op+"Response", "parameters", "element:typens:"+op+"ResponseParam")
}

// wsdlWSI is v2's WS-I compliant WSDL: document/literal, each operation's
// input and output one element ({op}Param or {op}RequestParam, and
// {op}ResponseParam), children unqualified. %s is the address.
var wsdlWSI = wsdlHead + entityTypes(`
        <xsd:sequence>
          <xsd:element name="complexObjectArray" type="typens:enterpriseCustomerbalanceHistoryItemEntity" minOccurs="0" maxOccurs="unbounded"/>
        </xsd:sequence>`) +
	wsiElement("loginParam", "username xsd:string", "apiKey xsd:string") +
	wsiElement("loginResponseParam", "result xsd:string") +
	wsiElement("endSessionParam", "sessionId xsd:string") +
	wsiElement("endSessionResponseParam", "result xsd:boolean") +
	wsiElement("enterpriseCustomerbalanceHistoryRequestParam", "sessionId xsd:string", "customerId xsd:string", "websiteId xsd:string optional") +
	wsiElement("enterpriseCustomerbalanceHistoryResponseParam", "result typens:enterpriseCustomerbalanceHistoryItemEntityArray") +
	schemaEnd + wsiMessages("login", "Param") + wsiMessages("endSession", "Param") +
	wsiMessages("enterpriseCustomerbalanceHistory", "RequestParam") +
	portBindingService("Mage_Api_Model_Server_Wsi_Handler", v2Ops, "Request", "Response", v2Action, docLiteral)
