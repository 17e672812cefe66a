package render
import ("context";"testing")
func BenchmarkScratchSmall(b *testing.B){
 doc := testDocument()
 for b.Loop() { if _, err := Render(context.Background(), nil, doc, FormatPDF); err != nil { b.Fatal(err) } }
}
