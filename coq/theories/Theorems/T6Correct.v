(* The corrected T6 (THEORY.md section 8.1; issue 10, item 8): for batched
   bias networks with a C1 loss, AD with a theta-uniform choice is the
   gradient wherever the loss is differentiable; and theta-uniformity of the
   choice is exactly what is needed (T6.v: otherwise a two-example batch
   refutes it).
   Chain: L = g(w, z(w)) is differentiable at w iff net_lin (the loss
   linearised at w) is (C1Output.v); then its tangent network phi_w is linear
   with the same gradient (Tangent.v); the tangent network of a batched bias
   network is a batched tangent network with base c = c mod N and the biases
   of the base neurons as the direction coordinates (this file); so the
   tangent network with the choice slopes, whose coordinates are AD
   (Tangent.ad_tout), is linear with that gradient (T6Tangent.v). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Activation Network AD T3 C1Output C1Instance Batch T6
  Tangent T6Tangent.
Import ListNotations.
Open Scope R_scope.

(** * Choices *)

(* D(c) = a'_-(c) + theta (a'_+(c) - a'_-(c)) with one theta for all kinks *)
Definition theta_uniform (a : activation) (Da : R -> R) : Prop :=
  exists theta, forall c, is_kink a c -> Da c = slope_left a c + theta * (slope_right a c - slope_left a c).

Lemma kink_slopes_differ (a : activation) (c : R) : is_kink a c -> slope_right a c - slope_left a c <> 0.
Proof. intros [_ H]; lra. Qed.

Lemma theta_of_spec (a : activation) (d c : R) :
  is_kink a c -> d = slope_left a c + theta_of a d c * (slope_right a c - slope_left a c).
Proof. intros Hk; pose proof (kink_slopes_differ a c Hk); unfold theta_of; field; exact H. Qed.

(* activations with at most one kink: every choice is theta-uniform (relu,
   leaky_relu, abs with any D) *)
Lemma one_kink_theta_uniform (a : activation) (Da : R -> R) :
  (forall c c', is_kink a c -> is_kink a c' -> c = c') -> theta_uniform a Da.
Proof.
  intros H1; destruct (classic (exists c0, is_kink a c0)) as [[c0 Hc0]|Hno].
  - exists (theta_of a (Da c0) c0); intros c Hc; rewrite (H1 c c0 Hc Hc0).
    apply theta_of_spec, Hc0.
  - exists 0; intros c Hc; exfalso; apply Hno; exists c; exact Hc.
Qed.

(* the left and the right slope are theta-uniform for every activation *)
Lemma left_theta_uniform (a : activation) : theta_uniform a (slope_left a).
Proof. exists 0; intros; ring. Qed.

Lemma right_theta_uniform (a : activation) : theta_uniform a (slope_right a).
Proof. exists 1; intros; ring. Qed.

Lemma finite_choice {A : Type} (P : nat -> A -> Prop) (n : nat) (a0 : A) :
  (forall k, (k < n)%nat -> exists a, P k a) -> exists f : nat -> A, forall k, (k < n)%nat -> P k (f k).
Proof.
  induction n as [|n IH]; intros H; [exists (fun _ => a0); intros; lia|].
  destruct IH as [f Hf]; [intros; apply H; lia|]; destruct (H n ltac:(lia)) as [an Han].
  exists (fun k => if Nat.eq_dec k n then an else f k); intros k Hk.
  destruct (Nat.eq_dec k n) as [->|]; [exact Han | apply Hf; lia].
Qed.

(** * The tangent network of a batched bias network *)

Section BatchTangent.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Hypothesis Hwf : wf_neurons net.
Variable bias : nat -> nat.
Hypothesis Hbias : forall k i, (k < N)%nat -> (i < B)%nat ->
  exists r, exclusive_param_with (base_at net (xs i)) (bias k) k (EConst 1) r.

Lemma base_at_wf (x : nat -> R) : wf (base_at net x).
Proof.
  apply (wf_with_out (base_at net x) (EConst 0)); [exact Hwf | intros j Hj; contradiction | intros q Hq; contradiction].
Qed.

Section Out.
Variable o : expr.
Let L := with_out bnet o.
Hypothesis HwfL : wf L.
Variable w : vec.
Let T := tnet_of L w.

Lemma batch_copy_zvec (i k j : nat) : (i < B)%nat -> (j < k)%nat -> (k < N)%nat ->
  zvec L w (i * N + j) = zvec (base_at net (xs i)) w j.
Proof.
  intros Hi Hj Hk; unfold L; rewrite zvec_with_out; unfold bnet.
  rewrite (zvec_lt (batch_neurons net B xs)) by (rewrite batch_size; apply copy_lt; lia).
  rewrite (zvec_lt (base_at net (xs i)) w j) by (change (n_size (base_at net (xs i))) with N; lia).
  apply batch_post; [exact Hwf | exact Hi | lia].
Qed.

Lemma batch_tnet_A (c c' : nat) : (c < t_N T)%nat -> (c' < t_N T)%nat ->
  t_A T c (bias (c' mod N)) = if Nat.eq_dec (c mod N) (c' mod N) then 1 else 0.
Proof.
  intros Hc Hc'; cbn [t_N t_A T tnet_of] in Hc, Hc' |- *.
  change (n_size L) with (n_size bnet) in Hc, Hc'; unfold bnet in Hc, Hc'; rewrite batch_size in Hc, Hc'; fold N in Hc, Hc'.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
  destruct (copy_decompose N B c' Hc') as [i' [k' [Hi' [Hk' ->]]]].
  rewrite !copy_mod by assumption.
  unfold dw_coef; change (tau L (i * N + k)) with (tau bnet (i * N + k)); unfold bnet.
  rewrite batch_tau, dparam_inst, eval_inst by assumption.
  destruct (Hbias k' i Hk' Hi) as [r He].
  destruct (Nat.eq_dec k k') as [<-|Hne].
  - transitivity (excl_coeff (base_at net (xs i)) w k (EConst 1)); [|reflexivity].
    rewrite <- (exclusive_dparam_coeff (base_at net (xs i)) (bias k) k (EConst 1) r w (base_at_wf _) He).
    apply eval_ext_neuron; intros j Hj; apply occurs_neuron_dparam in Hj.
    pose proof (proj1 (Hwf k Hk) j Hj) as Hjk.
    exact (batch_copy_zvec i k j Hi Hjk Hk).
  - apply dparam_not_occurs; destruct He as (_ & _ & Hoth & _); apply (Hoth k Hk Hne).
Qed.

Lemma batch_tnet_batched : batched_tnet (fun c => c mod N) bias T.
Proof.
  assert (HN : (t_N T = B * N)%nat).
  { cbn [t_N T tnet_of]; change (n_size L) with (n_size bnet); unfold bnet; rewrite batch_size; reflexivity. }
  split; [|split; [|split]].
  - intros c j Hc Hj; cbn [t_B T tnet_of]; apply dz_coef_above; [exact HwfL | exact Hc | exact Hj].
  - intros c c' Hc Hc'; apply batch_tnet_A; assumption.
  - intros c Hc; rewrite HN in Hc; destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
    rewrite copy_mod by exact Hk; destruct (Hbias k i Hk Hi) as [r He]; exact (proj1 He).
  - intros c j Hjc Hc Hne; rewrite HN in Hc; cbn [t_B T tnet_of] in Hne.
    destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
    unfold dz_coef in Hne; change (tau L (i * N + k)) with (tau bnet (i * N + k)) in Hne; unfold bnet in Hne.
    rewrite batch_tau in Hne by assumption.
    destruct (classic (occurs_neuron j (inst (i * N) (xs i) (tau net k)))) as [Ho|Ho];
      [|exfalso; apply Hne, dneuron_not_occurs, Ho].
    apply occurs_neuron_inst in Ho as [j' [-> Hj']].
    pose proof (proj1 (Hwf k Hk) j' Hj') as Hjk.
    rewrite !copy_mod by lia; exact Hjk.
Qed.

(* AD of L with theta-uniform choices is the gradient wherever L is differentiable *)
Theorem batch_ad_correct_theta (theta : nat -> R) (D : nat -> R) (G : vec) :
  (forall c, In c (kink_neurons L w) ->
     D c = slope_left (sigma L c) (preact L w c) +
           theta (c mod N) * (slope_right (sigma L c) (preact L w c) - slope_left (sigma L c) (preact L w c))) ->
  differentiable_at (n_params L) (net_eval L) w G ->
  forall p, (p < n_params L)%nat -> ad L D w p = G p.
Proof.
  intros HD Hd p Hp.
  assert (Hlin : tlinear T (hat T) G) by (intros v Hv; exact (tangent_linear_of_differentiable L w HwfL G Hd v Hv)).
  assert (HT6 := batched_tangent_T6 (fun c => c mod N) bias theta T G batch_tnet_batched Hlin).
  assert (H1 := HT6 (unit_vec p) (supported_unit_vec _ p Hp)).
  change (t_W T) with (n_params L) in H1; rewrite dot_unit_vec_r in H1 by exact Hp.
  rewrite (ad_tout L D w p HwfL Hp), <- H1; apply tout_ext; intros c t Hc.
  unfold lin, theta_slopes, dchoice; cbn [t_sl t_sr T tnet_of]; f_equal.
  destruct (classic (is_kink (sigma L c) (preact L w c))) as [Hk|Hk].
  - rewrite act_deriv_choice_kink by exact Hk; apply HD, kink_neurons_spec; split; assumption.
  - rewrite act_deriv_choice_not_kink, (not_kink_slopes _ _ Hk) by exact Hk; ring.
Qed.

End Out.
End BatchTangent.

(** * The corrected T6 for the batched network with a C1 loss *)

Section T6Correct.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Variable loss : c1_output (n_params net) (n_size (batch_neurons net B xs)).
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Let bn := batch_net net B xs loss.
Hypothesis Hwf : wf_neurons net.
Hypothesis Hb : batch_bias net B xs.

Theorem T6_batch_ad_correct_theta (theta : nat -> R) (D : nat -> R) (w g : vec) :
  (forall c, In c (kink_neurons bnet w) ->
     D c = slope_left (sigma bnet c) (preact bnet w c) +
           theta (c mod N) * (slope_right (sigma bnet c) (preact bnet w c) - slope_left (sigma bnet c) (preact bnet w c))) ->
  differentiable_at (n_params net) (c1_eval bn) w g ->
  forall p, (p < n_params net)%nat -> ad_c1 bn D w p = g p.
Proof.
  intros HD Hd p Hp.
  assert (Hwfb : wf_neurons bnet) by (apply batch_wf, Hwf).
  destruct (finite_choice (fun k p => forall i, (i < B)%nat ->
              exists r, exclusive_param_with (base_at net (xs i)) p k (EConst 1) r) N 0%nat Hb)
    as [bias Hbias].
  apply (c1_differentiable_at_iff bn Hwfb) in Hd.
  unfold ad_c1; rewrite (batch_ad_correct_theta net B xs Hwf bias (fun k i Hk Hi => Hbias k Hk i Hi)
                           (lin_out (dgz bn w) (n_size (cn_net bn))) (wf_net_lin bn w Hwfb) w theta D
                           (fun p => g p - dgw bn w p)); [ring| | exact Hd | exact Hp].
  intros c Hc; unfold net_lin in Hc; rewrite kink_neurons_with_out in Hc.
  unfold net_lin; rewrite preact_with_out; apply HD, Hc.
Qed.

(* with a choice function Da_k per base neuron (D at copy c is
   Da_(c mod N)(y_c(w))), theta-uniform for every activation *)
Theorem T6_batch_ad_correct (Dk : nat -> R -> R) (w g : vec) :
  (forall k, (k < N)%nat -> theta_uniform (sigma net k) (Dk k)) ->
  differentiable_at (n_params net) (c1_eval bn) w g ->
  forall p, (p < n_params net)%nat -> ad_c1 bn (fun c => Dk (c mod N) (preact bnet w c)) w p = g p.
Proof.
  intros Hu; destruct (finite_choice (fun k th => forall c, is_kink (sigma net k) c ->
                          Dk k c = slope_left (sigma net k) c + th * (slope_right (sigma net k) c - slope_left (sigma net k) c))
                        N 0 Hu) as [theta Htheta].
  apply (T6_batch_ad_correct_theta theta).
  intros c Hc; apply kink_neurons_spec in Hc as [Hc Hk].
  unfold bnet in Hc; rewrite batch_size in Hc; fold N in Hc.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk' ->]]]].
  unfold bnet in Hk |- *; rewrite batch_sigma in Hk |- * by assumption.
  rewrite copy_mod by exact Hk'; apply Htheta; assumption.
Qed.

(* every activation with at most one kink: every choice *)
Corollary T6_batch_ad_correct_one_kink (Dk : nat -> R -> R) (w g : vec) :
  (forall k, (k < N)%nat -> forall c c', is_kink (sigma net k) c -> is_kink (sigma net k) c' -> c = c') ->
  differentiable_at (n_params net) (c1_eval bn) w g ->
  forall p, (p < n_params net)%nat -> ad_c1 bn (fun c => Dk (c mod N) (preact bnet w c)) w p = g p.
Proof.
  intros H1; apply T6_batch_ad_correct; intros k Hk; apply one_kink_theta_uniform, H1, Hk.
Qed.

End T6Correct.

(** * Theta-uniformity is necessary and sufficient *)

(* the output of a C1 network does not see the polynomial output n_out *)
Lemma c1_with_out (X : network) (o : expr) (out : c1_output (n_params X) (n_size X)) :
  (forall w, c1_eval (mk_c1_network X out) w = c1_eval (mk_c1_network (with_out X o) out) w) /\
  (forall D w p, ad_c1 (mk_c1_network X out) D w p = ad_c1 (mk_c1_network (with_out X o) out) D w p).
Proof.
  assert (Hp : forall w, c1_point (mk_c1_network X out) w = c1_point (mk_c1_network (with_out X o) out) w).
  { intros w; unfold c1_point; cbn [cn_net]; rewrite zvec_with_out; reflexivity. }
  split; [intros w; unfold c1_eval; rewrite Hp; reflexivity|].
  intros D w p; unfold ad_c1, dgw; rewrite Hp; f_equal.
  unfold net_lin, dgz; rewrite Hp; reflexivity.
Qed.

Theorem T6_iff_theta_uniform (a : activation) (Da : R -> R) :
  theta_uniform a Da <->
  (forall (net : network) (B : nat) (xs : nat -> nat -> R)
          (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (w g : vec),
     wf_neurons net -> batch_bias net B xs -> (forall k, (k < n_size net)%nat -> sigma net k = a) ->
     differentiable_at (n_params net) (c1_eval (batch_net net B xs loss)) w g ->
     forall p, (p < n_params net)%nat ->
       ad_c1 (batch_net net B xs loss) (fun c => Da (preact (batch_neurons net B xs) w c)) w p = g p).
Proof.
  split.
  - intros Hu net B xs loss w g Hwf Hb Ha Hd p Hp.
    apply (T6_batch_ad_correct net B xs loss Hwf Hb (fun _ => Da) w g); [|exact Hd | exact Hp].
    intros k Hk; rewrite Ha by exact Hk; exact Hu.
  - intros H; apply NNPP; intros Hnu.
    (* two kinks with different thetas *)
    destruct (classic (exists c1, is_kink a c1)) as [[c1 Hc1]|Hno];
      [|apply Hnu; exists 0; intros c Hc; exfalso; apply Hno; exists c; exact Hc].
    destruct (classic (exists c2, is_kink a c2 /\ theta_of a (Da c2) c2 <> theta_of a (Da c1) c1))
      as [[c2 [Hc2 Hth]]|Hall].
    2:{ apply Hnu; exists (theta_of a (Da c1) c1); intros c Hc.
        destruct (Req_dec (theta_of a (Da c) c) (theta_of a (Da c1) c1)) as [Heq|Hne];
          [rewrite <- Heq; apply theta_of_spec, Hc | exfalso; apply Hall; exists c; split; assumption]. }
    destruct (T6_needs_theta_uniform a Da c1 c2 Hc1 Hc2 (not_eq_sym Hth)) as [zeta [g [Hb [Hwf [Hd Had]]]]].
    set (X := batch_neurons (T6_base a) 2 (T6_xs c1 c2)).
    set (loss := poly_output (T6_net a c1 c2 zeta) Hwf : c1_output (n_params (T6_base a)) (n_size X)).
    destruct (c1_with_out X (lin_out zeta 2) loss) as [He Hadq].
    apply Had; rewrite <- (ad_c1_of_net _ Hwf) by (simpl; lia).
    change (c1_of_net (T6_net a c1 c2 zeta) Hwf) with (mk_c1_network (with_out X (lin_out zeta 2)) loss).
    rewrite <- Hadq.
    replace (fun c => Da (preact (T6_net a c1 c2 zeta) vzero c)) with (fun c => Da (preact X vzero c))
      by (apply functional_extensionality; intros c; unfold T6_net; rewrite preact_with_out; reflexivity).
    apply (H (T6_base a) 2%nat (T6_xs c1 c2) loss vzero g (T6_base_wf a) Hb); [| |simpl; lia].
    + intros k Hk; unfold n_size in Hk; simpl in Hk; destruct k as [|k]; [reflexivity | lia].
    + apply (differentiable_at_ext _ (net_eval (T6_net a c1 c2 zeta))); [|exact Hd].
      intros v; unfold batch_net; rewrite He; change (mk_c1_network (with_out X (lin_out zeta 2)) loss)
        with (c1_of_net (T6_net a c1 c2 zeta) Hwf); apply c1_of_net_eval.
Qed.

(* the tangent network of a batched bias network (loss linearised at w) is a
   batched tangent network: base c = c mod N, the biases as directions *)
Theorem batch_tangent_batched (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (w : vec) :
  wf_neurons net -> batch_bias net B xs ->
  exists bias, batched_tnet (fun c => c mod n_size net) bias (tnet_of (net_lin (batch_net net B xs loss) w) w).
Proof.
  intros Hwf Hb.
  assert (Hwfb : wf_neurons (batch_neurons net B xs)) by (apply batch_wf, Hwf).
  destruct (finite_choice (fun k p => forall i, (i < B)%nat ->
              exists r, exclusive_param_with (base_at net (xs i)) p k (EConst 1) r) (n_size net) 0%nat Hb)
    as [bias Hbias].
  exists bias.
  exact (batch_tnet_batched net B xs Hwf bias (fun k i Hk Hi => Hbias k Hk i Hi)
           (lin_out (dgz (batch_net net B xs loss) w) (n_size (cn_net (batch_net net B xs loss))))
           (wf_net_lin (batch_net net B xs loss) w Hwfb) w).
Qed.
