package worker

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
)

// Search attributes Duban sets on each task workflow when enabled, so that
// operators can find an instance's workflow by unit or deadline in the
// Temporal UI and CLI (e.g. `DubanCity = "4301"`). The API never reads
// them: lists come from Postgres.
var (
	AttrUnit   = temporal.NewSearchAttributeKeyKeyword("DubanUnit")
	AttrCity   = temporal.NewSearchAttributeKeyKeyword("DubanCity")
	AttrCounty = temporal.NewSearchAttributeKeyKeyword("DubanCounty")
	AttrDue    = temporal.NewSearchAttributeKeyTime("DubanDue")
)

// SearchAttributeTypes are the attributes' types, for registration.
var SearchAttributeTypes = map[string]enumspb.IndexedValueType{
	AttrUnit.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrCity.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrCounty.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrDue.GetName():    enumspb.INDEXED_VALUE_TYPE_DATETIME,
}

// EnsureSearchAttributes registers the attributes on the namespace if any
// is missing (the embedded server; on a real cluster an operator usually
// does this once with `temporal operator search-attribute create`).
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range SearchAttributeTypes {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// searchAttributes returns the attributes of one instance.
func searchAttributes(spec duban.TaskSpec) temporal.SearchAttributes {
	updates := []temporal.SearchAttributeUpdate{AttrUnit.ValueSet(spec.UnitCode), AttrDue.ValueSet(spec.Due)}
	anc := org.Ancestors(spec.UnitCode)
	if len(anc) > 1 {
		updates = append(updates, AttrCity.ValueSet(anc[1]))
	}
	if len(anc) > 2 {
		updates = append(updates, AttrCounty.ValueSet(anc[2]))
	}
	return temporal.NewSearchAttributes(updates...)
}
