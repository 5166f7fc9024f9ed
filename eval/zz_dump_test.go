package eval_test
import ("testing";"fmt";"os";"github.com/groundedhq/grounded/eval";"github.com/groundedhq/grounded/answer/support";"github.com/groundedhq/grounded/internal/textproc")
func TestDumpMiss(t *testing.T){
 s,_:=eval.LoadSQuAD("/work/shared/eval-data/squad2/dev-v2.0.tune.json")
 c:=support.New(textproc.NewAnalyzer(),support.Config{})
 kind:=os.Getenv("KIND"); n:=0
 for _,p:=range eval.Contrastive(s){ if p.Kind!=kind||p.Article%2!=0 {continue}
  r:=c.Check(p.Sentence,p.Passages)
  if r.Supported!=p.Supported { n++; if n<=12 {fmt.Printf("%s %s %.2f\n  S: %s\n  E: %s\n",r.Verdict,r.Reason,r.Score,p.Sentence,p.Passages[r.Passage][r.Start:r.End])}}
 }
}
