package fakeoutbound

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// WSDL returns the generated WSDL of a definition, in the layout
// Salesforce generates (SALESFORCE.md 5.3): the ID simple type, the sObject
// base, one complexType for the object with the selected fields (Id is
// inherited), the notifications and notificationsResponse elements, and
// the NotificationService whose address is the endpoint URL. The
// "Generated on" time is the time of Define.
func (q *Queue) WSDL(actionID string) ([]byte, error) {
	q.mu.Lock()
	a := q.actions[actionID]
	q.mu.Unlock()
	if a == nil {
		return nil, fmt.Errorf("wsdl of %q: %w", actionID, ErrUnknownAction)
	}
	return wsdl(a.def, a.fields, a.created), nil
}

func wsdl(d Definition, fields []string, generated time.Time) []byte {
	var seq bytes.Buffer
	for _, f := range fields {
		t := d.FieldSoapTypes[f]
		if t == "" {
			t = "xsd:string"
		}
		seq.WriteString(`                            <element name="`)
		escape(&seq, f, true)
		seq.WriteString(`" nillable="true" minOccurs="0" type="`)
		escape(&seq, t, true)
		seq.WriteString("\"/>\n")
	}
	var obj, loc bytes.Buffer
	escape(&obj, d.Object, true)
	escape(&loc, d.EndpointURL, true)
	g := generated.UTC()
	r := strings.NewReplacer(
		"{{GENERATED}}", g.Format("2006-01-02 15:04:05 +0000"),
		"{{YEAR}}", g.Format("2006"),
		"{{OBJECT}}", obj.String(),
		"{{LOCATION}}", loc.String(),
	)
	var b strings.Builder
	b.WriteString(r.Replace(wsdlHead))
	b.WriteString(`            <complexType name="` + obj.String() + "\">\n")
	b.WriteString("                <complexContent>\n")
	b.WriteString("                    <extension base=\"ens:sObject\">\n")
	b.WriteString("                        <sequence>\n")
	b.WriteString(seq.String())
	b.WriteString("                        </sequence>\n")
	b.WriteString("                    </extension>\n")
	b.WriteString("                </complexContent>\n")
	b.WriteString("            </complexType>\n")
	b.WriteString(r.Replace(wsdlTail))
	return []byte(b.String())
}

const wsdlHead = `<?xml version="1.0" encoding="UTF-8"?>
<!--
Salesforce.com Outbound Notification Web Services API Version 1.0
Generated on {{GENERATED}}.

Copyright 2005-{{YEAR}} Salesforce.com, Inc.
All Rights Reserved
-->
<definitions targetNamespace="http://soap.sforce.com/2005/09/outbound"
             xmlns="http://schemas.xmlsoap.org/wsdl/"
             xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
             xmlns:tns="http://soap.sforce.com/2005/09/outbound"
             xmlns:xsd="http://www.w3.org/2001/XMLSchema"
             xmlns:ent="urn:enterprise.soap.sforce.com"
             xmlns:ens="urn:sobject.enterprise.soap.sforce.com">
    <types>

        <schema elementFormDefault="qualified" xmlns="http://www.w3.org/2001/XMLSchema"
                targetNamespace="urn:enterprise.soap.sforce.com">
            <!-- Our simple ID Type -->
            <simpleType name="ID">
                <restriction base="xsd:string">
                    <length value="18"/>
                    <pattern value='[a-zA-Z0-9]{18}'/>
                </restriction>
            </simpleType>
        </schema>

        <schema elementFormDefault="qualified" xmlns="http://www.w3.org/2001/XMLSchema"
                targetNamespace="urn:sobject.enterprise.soap.sforce.com">
            <import namespace="urn:enterprise.soap.sforce.com"/>
            <!-- Base sObject (abstract) -->
            <complexType name="sObject">
                <sequence>
                    <element name="fieldsToNull" type="xsd:string" nillable="true" minOccurs="0" maxOccurs="unbounded"/>
                    <element name="Id" type="ent:ID" nillable="true"/>
                </sequence>
            </complexType>

            <complexType name="AggregateResult">
                <complexContent>
                    <extension base="ens:sObject">
                        <sequence>
                            <any namespace="##targetNamespace" minOccurs="0" maxOccurs="unbounded"
                                 processContents="lax"/>
                        </sequence>
                    </extension>
                </complexContent>
            </complexType>

`

const wsdlTail = `
        </schema>

        <schema elementFormDefault="qualified" xmlns="http://www.w3.org/2001/XMLSchema"
                targetNamespace="http://soap.sforce.com/2005/09/outbound">
            <import namespace="urn:enterprise.soap.sforce.com"/>
            <import namespace="urn:sobject.enterprise.soap.sforce.com"/>

            <element name="notifications">
                <complexType>
                    <sequence>
                        <element name="OrganizationId" type="ent:ID"/>
                        <element name="ActionId" type="ent:ID"/>
                        <element name="SessionId" type="xsd:string" nillable="true"/>
                        <element name="EnterpriseUrl" type="xsd:string"/>
                        <element name="PartnerUrl" type="xsd:string"/>
                        <element name="Notification" maxOccurs="100" type="tns:{{OBJECT}}Notification"/>
                    </sequence>
                </complexType>
            </element>

            <complexType name="{{OBJECT}}Notification">
                <sequence>
                    <element name="Id" type="ent:ID"/>
                    <element name="sObject" type="ens:{{OBJECT}}"/>
                </sequence>
            </complexType>

            <element name="notificationsResponse">
                <complexType>
                    <sequence>
                        <element name="Ack" type="xsd:boolean"/>
                    </sequence>
                </complexType>
            </element>
        </schema>
    </types>

    <!-- Method Messages -->
    <message name="notificationsRequest">
        <part element="tns:notifications" name="request"/>
    </message>
    <message name="notificationsResponse">
        <part element="tns:notificationsResponse" name="response"/>
    </message>

    <!-- PortType -->
    <portType name="NotificationPort">
        <operation name="notifications">
            <documentation>Process a number of notifications.</documentation>
            <input message="tns:notificationsRequest"/>
            <output message="tns:notificationsResponse"/>
        </operation>
    </portType>

    <!-- Binding
         You need to write a service that implements this binding to receive the notifications
     -->
    <binding name="NotificationBinding" type="tns:NotificationPort">
        <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>

        <operation name="notifications">
            <soap:operation soapAction=""/>
            <input>
                <soap:body use="literal"/>
            </input>
            <output>
                <soap:body use="literal"/>
            </output>
        </operation>
    </binding>

    <!-- Service Endpoint -->
    <service name="NotificationService">
        <documentation>Notification Service Implementation</documentation>
        <port binding="tns:NotificationBinding" name="Notification">
            <soap:address location="{{LOCATION}}"/>
        </port>
    </service>

</definitions>`
