package eval_test
import ("testing";"fmt";"os";"github.com/groundedhq/grounded/eval";"github.com/groundedhq/grounded/answer/support";"github.com/groundedhq/grounded/internal/textproc")
func TestDumpSF(t *testing.T){
 set,_:=eval.LoadSupport("/work/shared/eval-data/scifact-claims/claims_dev.jsonl","/work/shared/eval-data/scifact/corpus.jsonl")
 c:=support.New(textproc.NewAnalyzer(),support.Config{})
 want:=os.Getenv("REASON")
 for _,p:=range set.Abstract{ if p.Kind!="support" || p.Position%2!=0 {continue}
  r:=c.Check(p.Claim,p.Passages)
  if r.Reason==want || (want=="polar" && (r.Reason=="negation"||r.Reason=="antonym"||r.Reason=="comparison")) { fmt.Printf("%s %s %.2f cov %.2f\n  C: %s\n  E: %s\n",r.Verdict,r.Reason,r.Score,r.Coverage,p.Claim,p.Passages[r.Passage][r.Start:r.End])}
 }
}
